// The console's browser scenario, against the page contract of
// internal/console: fixed ids, classes and routes, listed in the README
// of this folder. Run by run.mjs (see there for the environment).
//
// It expects the demo data in the signed-in tenant and one pending
// approval whose first option can be approved (cmd/canopy's
// TestConsoleBrowser sets both up).

const NAV = {
  'nav-overview': '/',
  'nav-findings': '/findings',
  'nav-incidents': '/incidents',
  'nav-posture': '/posture',
  'nav-responsibility': '/responsibility',
  'nav-approvals': '/approvals',
  'nav-data': '/data',
};
const CHARTS = ['chart-severity', 'chart-source', 'chart-party', 'chart-risk', 'chart-trend'];
const TACTICS = ['Reconnaissance', 'Resource Development', 'Initial Access', 'Execution', 'Persistence',
  'Privilege Escalation', 'Defense Evasion', 'Credential Access', 'Discovery', 'Lateral Movement', 'Collection',
  'Command and Control', 'Exfiltration', 'Impact'];

class Check extends Error {}

function check(ok, msg) {
  if (!ok) throw new Check(msg);
}

export async function run({ browser, base, signin, token, shots, step, timeout, problems }) {
  const T = { timeout };
  const url = (path) => base + path;
  const pathOf = (page) => new URL(page.url()).pathname;
  const text = async (loc) => ((await loc.textContent(T)) || '').trim();

  // waitFor waits until fn (run in the page with arg) returns true; on a
  // time-out it says what describe (run in the page too) saw.
  async function waitFor(page, what, fn, arg, describe) {
    try {
      await page.waitForFunction(fn, arg, T);
    } catch (err) {
      let seen = '';
      if (describe) seen = await page.evaluate(describe, arg).catch((e) => `(${e.message.split('\n')[0]})`);
      throw new Check(`${what}: not so after ${timeout / 1000} s${seen ? `; saw ${seen}` : ''}`);
    }
  }

  // the page furniture every console page has
  async function chrome(page) {
    const lang = await page.getAttribute('html', 'lang', T);
    check(lang === 'en' || lang === 'zh-CN', `${pathOf(page)}: html lang=${JSON.stringify(lang)}, want en or zh-CN`);
    for (const [id, path] of Object.entries(NAV)) {
      const href = await page.getAttribute(`a#${id}`, 'href', T);
      check(href !== null && new URL(href, page.url()).pathname === path, `${pathOf(page)}: a#${id} href=${JSON.stringify(href)}, want ${path}`);
    }
    for (const [id, want] of [['lang-en', 'en'], ['lang-zh', 'zh-CN']]) {
      const href = await page.getAttribute(`a#${id}`, 'href', T);
      check(href !== null && new URL(href, page.url()).searchParams.get('lang') === want, `${pathOf(page)}: a#${id} href=${JSON.stringify(href)}, want ?lang=${want}`);
    }
    await page.waitForSelector('form#logout button#signout', { state: 'attached', ...T });
  }

  async function loginPage(page) {
    check(pathOf(page) === '/login', `at ${page.url()}, want /login`);
    await page.waitForSelector('form#login input[name=token]', T);
    await page.waitForSelector('form#login button#signin', T);
  }

  async function submitToken(page, value) {
    await page.fill('form#login input[name=token]', value, T);
    await Promise.all([page.waitForNavigation(T), page.click('form#login button#signin', T)]);
  }

  // a context that was never signed in asks for it
  async function signedOut(ctx, what) {
    const resp = await ctx.request.get(url('/'), { maxRedirects: 0, ...T });
    const loc = resp.headers()['location'] || '';
    check(resp.status() === 303 && new URL(loc, url('/')).pathname === '/login',
      `${what}: GET / answered ${resp.status()} location ${JSON.stringify(loc)}, want 303 to /login`);
  }

  const ctx = await browser.newContext();
  const page = await ctx.newPage();

  await step('sign-in-required', async () => {
    await signedOut(ctx, 'without a session');
    await page.goto(url('/'), T);
    await loginPage(page);
  });

  await step('bad-token', async () => {
    await submitToken(page, 'cnp_not-a-token-0000000000000000000000000000000');
    check(pathOf(page) === '/login', `after a bad token at ${page.url()}, want /login`);
    await page.waitForSelector('.error', T);
    await signedOut(ctx, 'after a bad token');
  });

  await step('sign-in', async () => {
    if (signin) {
      await page.goto(signin, T);
    } else {
      check(token, 'neither CANOPY_SIGNIN nor CANOPY_TOKEN is set');
      await submitToken(page, token);
    }
    check(pathOf(page) === '/', `signed in at ${page.url()}, want /`);
    await chrome(page);
  });

  if (signin) {
    await step('sign-in-link-once', async () => {
      const other = await browser.newContext();
      try {
        const p = await other.newPage();
        await p.goto(signin, T);
        await signedOut(other, 'after the sign-in link was used a second time');
      } finally {
        await other.close();
      }
    });
  }
  if (signin && token) {
    await step('sign-in-token', async () => {
      const other = await browser.newContext();
      try {
        const p = await other.newPage();
        await p.goto(url('/login'), T);
        await submitToken(p, token);
        check(pathOf(p) === '/', `signed in with the token at ${p.url()}, want /`);
      } finally {
        await other.close();
      }
    });
  }

  await step('overview', async () => {
    await page.goto(url('/'), T);
    await chrome(page);
    const n = Number((await text(page.locator('#stat-findings'))).replace(/[^0-9]/g, ''));
    check(n > 0, `#stat-findings is ${n}, want the demo's findings`);
    await page.waitForSelector('#stat-incidents', T);
    for (const id of CHARTS) {
      await waitFor(page, `#${id} drawn (data-ready="1")`, (id) => document.getElementById(id)?.getAttribute('data-ready') === '1', id,
        (id) => { const e = document.getElementById(id); return e ? `data-ready=${JSON.stringify(e.getAttribute('data-ready'))}` : 'no such element'; });
      check(await page.locator(`#${id} canvas, #${id} svg`).count() > 0, `#${id} is ready but holds no canvas or svg`);
    }
    const links = await page.locator('table#top-incidents a.incident-link').count();
    check(links >= 1, `table#top-incidents has ${links} incident links`);
    await page.screenshot({ path: `${shots}/overview.png`, fullPage: true, ...T });
  });

  await step('pages', async () => {
    await page.goto(url('/'), T);
    for (const [id, path] of Object.entries(NAV)) {
      await Promise.all([page.waitForURL((u) => u.pathname === path, T), page.click(`a#${id}`, T)]);
      await chrome(page);
    }
    await page.goto(url('/posture'), T);
    await page.waitForSelector('table#packs-table', { state: 'attached', ...T });
    await page.goto(url('/responsibility'), T);
    for (const party of ['customer', 'provider', 'vendor']) {
      await page.waitForSelector(`section.party[data-party=${party}]`, { state: 'attached', ...T });
    }
    await page.goto(url('/data'), T);
    await page.waitForSelector('table#stores-table', { state: 'attached', ...T });
  });

  let rawHref = '';
  await step('filter-findings', async () => {
    await page.goto(url('/findings'), T);
    await chrome(page);
    await page.waitForSelector('table#findings-table tbody tr', T);
    await page.waitForSelector('#result-count', { state: 'attached', ...T });
    const values = await page.locator('form#filters select[name=severity] option').evaluateAll((os) => os.map((o) => o.value));
    for (const v of ['critical', 'high', 'medium', 'low', 'informational', '']) {
      check(values.includes(v), `select[name=severity] options ${JSON.stringify(values)} lack ${JSON.stringify(v)}`);
    }
    await page.waitForSelector('form#filters select[name=source]', { state: 'attached', ...T });
    await page.waitForSelector('form#filters select[name=party]', { state: 'attached', ...T });

    await page.selectOption('form#filters select[name=severity]', 'high', T);
    await page.click('form#filters button#apply', T);
    await page.waitForURL((u) => u.pathname === '/findings' && u.searchParams.get('severity') === 'high', T);
    const allHigh = () => {
      const sev = [...document.querySelectorAll('table#findings-table tbody tr td.sev')].map((td) => td.textContent.trim());
      return sev.length > 0 && sev.every((s) => s === 'High');
    };
    const sevSeen = () => JSON.stringify([...document.querySelectorAll('table#findings-table tbody tr td.sev')].map((td) => td.textContent.trim()));
    await waitFor(page, 'every td.sev is High after filtering on high', allHigh, null, sevSeen);
    const rows = await page.locator('table#findings-table tbody tr').count();
    check(await page.locator('table#findings-table tbody tr td.title').count() === rows, 'a row without td.title');
    check(await page.locator('table#findings-table tbody tr a.raw-link').count() === rows, 'a row without a.raw-link');

    // bookmarkable: the same URL opened afresh shows the same filter
    const filtered = page.url();
    await page.goto(filtered, T);
    await waitFor(page, `every td.sev is High at ${filtered}`, allHigh, null, sevSeen);
    check(await page.inputValue('form#filters select[name=severity]', T) === 'high', `the severity filter is not kept at ${filtered}`);

    // a word of the first row's title finds rows that contain it
    const title = await text(page.locator('table#findings-table tbody tr td.title').first());
    const word = title.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 4).sort((a, b) => b.length - a.length)[0];
    check(word, `no word to search for in the title ${JSON.stringify(title)}`);
    await page.fill('form#filters input[name=q]', word, T);
    await page.click('form#filters button#apply', T);
    await page.waitForURL((u) => u.searchParams.get('q') === word, T);
    await waitFor(page, `every row contains ${JSON.stringify(word)}`, (w) => {
      const rows = [...document.querySelectorAll('table#findings-table tbody tr')];
      return rows.length > 0 && rows.every((r) => r.textContent.toLowerCase().includes(w.toLowerCase()));
    }, word, () => JSON.stringify([...document.querySelectorAll('table#findings-table tbody tr td.title')].map((td) => td.textContent.trim()).slice(0, 5)));
    rawHref = new URL(await page.getAttribute('table#findings-table tbody tr a.raw-link', 'href', T), page.url()).href;

    // another page, when there is one, shows other rows
    await page.goto(url('/findings'), T);
    if (await page.locator('a#next-page').count() > 0) {
      const first = await text(page.locator('table#findings-table tbody tr').first());
      await page.click('a#next-page', T);
      await waitFor(page, 'the next page shows other rows', (first) => {
        const r = document.querySelector('table#findings-table tbody tr');
        return r !== null && r.textContent.trim() !== first;
      }, first);
    }
  });

  await step('raw-json', async () => {
    check(new URL(rawHref).pathname.match(/^\/raw\/finding\/[^/]+$/), `a.raw-link goes to ${rawHref}, want /raw/finding/{id}`);
    const resp = await ctx.request.get(rawHref, T);
    check(resp.status() === 200, `${rawHref} answered ${resp.status()}`);
    check((resp.headers()['content-type'] || '').startsWith('application/json'), `${rawHref} is ${resp.headers()['content-type']}`);
    const body = await resp.text();
    JSON.parse(body);
    check(body.includes('"class_uid"'), `${rawHref} has no class_uid: ${body.slice(0, 200)}`);
    await page.goto(rawHref, T);
    check((await page.textContent('body', T)).includes('class_uid'), `${rawHref} shows no class_uid`);

    const anon = await browser.newContext();
    try {
      const r = await anon.request.get(rawHref, { maxRedirects: 0, ...T });
      check(r.status() !== 200, `${rawHref} answered 200 without a session`);
    } finally {
      await anon.close();
    }
  });

  await step('incident', async () => {
    await page.goto(url('/incidents'), T);
    await chrome(page);
    const link = page.locator('table#incidents-table a.incident-link').first();
    await link.waitFor(T);
    await Promise.all([page.waitForURL((u) => /^\/incidents\/[^/]+$/.test(u.pathname), T), link.click(T)]);
    check(await text(page.locator('h1#incident-title')) !== '', 'h1#incident-title is empty');
    const steps = await page.locator('ol#killchain > li').allTextContents();
    check(steps.length >= 1, 'ol#killchain has no li');
    for (const s of steps) {
      check(TACTICS.some((t) => s.includes(t)), `kill-chain step ${JSON.stringify(s.trim())} names no ATT&CK tactic`);
    }
    for (const id of ['timeline', 'entity-graph']) {
      await waitFor(page, `#${id} drawn (data-ready="1")`, (id) => document.getElementById(id)?.getAttribute('data-ready') === '1', id);
    }
    const members = await page.locator('table#members-table tbody tr').count();
    check(members >= 2, `table#members-table has ${members} rows, want 2 or more`);
    await page.screenshot({ path: `${shots}/incident.png`, fullPage: true, ...T });
  });

  let approvalID = '';
  await step('approve', async () => {
    await page.goto(url('/approvals'), T);
    await chrome(page);
    const pending = page.locator('article.approval:has(form.approve)').first();
    await pending.waitFor(T);
    approvalID = await pending.getAttribute('data-id', T);
    check(approvalID, 'article.approval has no data-id');
    const option = pending.locator('.option[data-option]').first();
    check(await option.getAttribute('data-option', T), '.option has no data-option');
    check(await text(option.locator('.impact').first()) !== '', 'the first option shows no .impact');
    await pending.locator('form.reject textarea[name=reason]').waitFor({ state: 'attached', ...T });
    await pending.locator('form.reject button.reject').waitFor({ state: 'attached', ...T });
    await option.locator('form.approve button.approve-option').click(T);
    await waitFor(page, `approval ${approvalID} shows .state approved`, (id) => {
      const s = document.querySelector(`.approval[data-id="${CSS.escape(id)}"] .state`);
      return s !== null && s.textContent.toLowerCase().includes('approved');
    }, approvalID, (id) => {
      const a = document.querySelector(`.approval[data-id="${CSS.escape(id)}"]`);
      return a ? JSON.stringify(a.querySelector('.state')?.textContent.trim() ?? 'no .state') : 'no such article';
    });
    await page.screenshot({ path: `${shots}/approvals.png`, fullPage: true, ...T });
  });

  await step('language', async () => {
    await page.goto(url('/'), T);
    await Promise.all([page.waitForNavigation(T), page.click('a#lang-zh', T)]);
    await page.waitForSelector('html[lang="zh-CN"]', { state: 'attached', ...T });
    check(await text(page.locator('a#nav-findings')) === '发现', `a#nav-findings says ${JSON.stringify(await text(page.locator('a#nav-findings')))} in zh-CN`);
    await page.goto(url('/approvals'), T); // the choice is kept
    await page.waitForSelector('html[lang="zh-CN"]', { state: 'attached', ...T });
    const state = page.locator(`.approval[data-id="${approvalID}"] .state`);
    if (approvalID && await state.count() > 0) {
      check((await text(state)).includes('已批准'), `approval ${approvalID} shows .state ${JSON.stringify(await text(state))} in zh-CN`);
    }
    await page.goto(url('/'), T);
    await page.screenshot({ path: `${shots}/overview-zh.png`, fullPage: true, ...T });
    await Promise.all([page.waitForNavigation(T), page.click('a#lang-en', T)]);
    await page.waitForSelector('html[lang="en"]', { state: 'attached', ...T });
    check(await text(page.locator('a#nav-findings')) === 'Findings', `a#nav-findings says ${JSON.stringify(await text(page.locator('a#nav-findings')))} in en`);
  });

  await step('sign-out', async () => {
    await Promise.all([page.waitForNavigation(T), page.click('form#logout button#signout', T)]);
    await signedOut(ctx, 'after signing out');
    await page.goto(url('/'), T);
    await loginPage(page);
  });

  await step('no-page-problems', async () => {
    const p = problems();
    check(p.length === 0, `${p.length} problems:\n${p.join('\n')}`);
  });
}
