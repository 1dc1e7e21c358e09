package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/demo"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/cloud/cloudtest"
)

// e2eDir holds the browser scenarios and their package.json, relative to
// this package.
const e2eDir = "../../web/e2e"

// browserNeeds returns what the browser test runs with: Chromium
// ($CANOPY_CHROMIUM, else chromium or chromium-browser on $PATH), node,
// and playwright-core installed in web/e2e. Without one of them it skips,
// unless $CI is set: then it fails, so that CI cannot pass without
// driving a browser.
func browserNeeds(t *testing.T) (chromium, node string) {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " ($CI is set: the browser test may not be skipped)")
		}
		t.Skip(msg)
	}
	chromium = os.Getenv("CANOPY_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		missing("no Chromium: install the chromium package (Debian: apt-get install -y chromium fonts-noto-cjk) or set CANOPY_CHROMIUM to its binary")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node on $PATH: install Node.js 20 or later (Debian: apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("playwright-core is not installed in web/e2e: run `npm ci --prefix web/e2e` at the repository's root")
	}
	return chromium, node
}

var (
	servingRe = regexp.MustCompile(`msg=serving addr=(http://\S+?)/api/v1`)
	signinRe  = regexp.MustCompile(`https?://\S+/signin/\S+`)
	tokenRe   = regexp.MustCompile(`cnp_[A-Za-z0-9_-]{43}`)
)

// TestConsoleBrowser drives the web console in headless Chromium with
// Playwright (web/e2e/console.mjs, run by web/e2e/run.mjs): sign-in,
// the overview's charts, filtering findings, an incident's kill chain and
// timeline, approving a pending approval, switching language, signing out.
//
// The data directory holds the demo data and the response scene's
// exposure (respond_test.go), both in the demo's tenant, so the signed-in
// admin sees the demo and one pending approval of contain-public-exposure.
// `canopy serve --demo` runs in this process on a free loopback port with
// the scene's flags; its cloud actions talk to the AWS double. The
// scenario signs in with the one-time link serve prints, and with the demo
// admin token serve prints.
//
// Screenshots go to $CANOPY_SHOTS, else to a temporary folder.
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	chromium, node := browserNeeds(t)
	s := newRespondScene(t, "")
	const tenant = pipeline.DefaultTenant

	// the demo data, as serve --demo would load it (serve leaves a tenant
	// with records alone), then the exposure, which asks for an approval
	files, err := demo.Files()
	if err != nil {
		t.Fatal(err)
	}
	demoDir := filepath.Join(s.dir, "demo")
	if err := os.Mkdir(demoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ingestArgs := []string{"ingest", "--tenant", tenant}
	for _, f := range files {
		p := filepath.Join(demoDir, f.Name)
		writeFile(t, p, string(f.Data))
		ingestArgs = append(ingestArgs, p)
	}
	s.ok(ingestArgs...)
	s.ingestExposure(tenant)
	pendingBefore := pendingApprovals(s, tenant)
	if len(pendingBefore) == 0 {
		t.Fatalf("no pending approval in tenant %s", tenant)
	}
	a := s.approvalOf(tenant, "contain-public-exposure")
	t.Logf("pending approvals: %d, the exposure's is %s with options %s", len(pendingBefore), a.ID, optionIDs(a))
	scriptContainment(s.aws)

	// serve, on a free port
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--demo", "--addr", "127.0.0.1:0"}, s.args...), strings.NewReader(""), &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d:\n%s", code, errb.String())
		}
	}()
	base := waitForLine(t, &errb, done, servingRe, time.Minute, true)
	if base == "" {
		return
	}
	token := tokenRe.FindString(errb.String())
	if token == "" {
		t.Errorf("serve --demo printed no admin token:\n%s", errb.String())
	}
	signin := waitForLine(t, &errb, done, signinRe, 10*time.Second, false)
	if signin == "" {
		t.Errorf("serve printed no sign-in link (a line `Open %s/signin/CODE to sign in`); the scenario signs in with the token:\n%s", base, errb.String())
	}
	t.Logf("console at %s", base)

	shots, keep := os.Getenv("CANOPY_SHOTS"), true
	if shots == "" {
		shots, keep = t.TempDir(), false
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if abs, err := filepath.Abs(shots); err == nil {
		shots = abs
	}
	home := t.TempDir()
	nctx, ncancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer ncancel()
	cmd := exec.CommandContext(nctx, node, "run.mjs", "console.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "CANOPY_URL="+base, "CANOPY_SIGNIN="+signin, "CANOPY_TOKEN="+token,
		"CANOPY_SHOTS="+shots, "CHROMIUM="+chromium, "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	cmd.WaitDelay = 10 * time.Second // a browser left holding the output does not hang the test
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var fails []string
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			t.Log("e2e: " + line)
			if strings.HasPrefix(line, "FAIL ") {
				fails = append(fails, line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-logged
	if keep {
		t.Logf("screenshots in %s", shots)
	} else {
		t.Logf("screenshots in %s, removed after the test: set CANOPY_SHOTS to a folder to keep them", shots)
	}
	if err != nil {
		if errors.Is(nctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("the browser scenario did not finish in 3 minutes: %v", err)
		}
		t.Fatalf("the browser scenario failed (%v):\n%s\nserve's log:\n%s", err, strings.Join(fails, "\n"), errb.String())
	}

	// the approval the browser approved is decided in the store
	if after := pendingApprovals(s, tenant); len(after) != len(pendingBefore)-1 {
		t.Errorf("pending approvals: %d before the browser approved one, %d after", len(pendingBefore), len(after))
	}
}

// waitForLine waits until serve's log has a match of re and returns it
// (its first group when re has one). The wait only bounds a serve that
// never says it: then it fails the test when required, else returns "".
func waitForLine(t *testing.T, log *syncBuffer, done chan int, re *regexp.Regexp, bound time.Duration, required bool) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case code := <-done:
			done <- code // for the deferred check
			t.Fatalf("serve stopped (exit %d) before printing %s:\n%s", code, re, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			if required {
				t.Fatalf("serve printed nothing matching %s in %s:\n%s", re, bound, log.String())
			}
			return ""
		}
	}
}

func pendingApprovals(s *respondScene, tenant string) []respond.Approval {
	s.t.Helper()
	var as []respond.Approval
	s.json(&as, "approvals", "list", "--tenant", tenant, "--state", "pending")
	return as
}

func optionIDs(a respond.Approval) string {
	var ids []string
	for _, o := range a.Options {
		ids = append(ids, o.ID)
	}
	return strings.Join(ids, ", ")
}

// scriptContainment queues the AWS double's answers for running any one
// option of contain-public-exposure: the bucket's public access blocked,
// and either web-1 moved into a new quarantine group or the group's SSH
// rule revoked. Replies left unused are harmless; a call with none fails
// the test.
func scriptContainment(aws *cloudtest.AWS) {
	const (
		inst  = "i-0aaaaaaaaaaaaaaa1"
		group = "sg-0123456789abcdef0"
		quar  = "sg-0000000000000c0c0"
		vpc   = "vpc-0abc"
	)
	aws.On("GetPublicAccessBlock", cloudtest.AWSReply{Status: 404, Body: cloudtest.S3ErrorXML("NoSuchPublicAccessBlockConfiguration", "none")}).
		On("PutPublicAccessBlock", cloudtest.AWSReply{}).
		On("RevokeSecurityGroupIngress", cloudtest.EC2OK("RevokeSecurityGroupIngress", "<return>true</return>")).
		On("DescribeInstances", cloudtest.EC2OK("DescribeInstances", "<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>"+
			"<instanceId>"+inst+"</instanceId><vpcId>"+vpc+"</vpcId>"+
			"<groupSet><item><groupId>"+group+"</groupId><groupName>web-ssh</groupName></item></groupSet>"+
			"<networkInterfaceSet><item><networkInterfaceId>eni-a</networkInterfaceId></item></networkInterfaceSet><tagSet/>"+
			"</item></instancesSet></item></reservationSet>")).
		On("DescribeSecurityGroups",
			cloudtest.EC2OK("DescribeSecurityGroups", "<securityGroupInfo/>"),
			cloudtest.EC2OK("DescribeSecurityGroups", "<securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>"+quar+"</groupId>"+
				"<groupName>canopy-quarantine</groupName><vpcId>"+vpc+"</vpcId><ipPermissions/><ipPermissionsEgress>"+
				"<item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>"+
				"</ipPermissionsEgress></item></securityGroupInfo>")).
		On("CreateSecurityGroup", cloudtest.EC2OK("CreateSecurityGroup", "<return>true</return><groupId>"+quar+"</groupId>")).
		On("RevokeSecurityGroupEgress", cloudtest.EC2OK("RevokeSecurityGroupEgress", "<return>true</return>")).
		On("CreateTags", cloudtest.EC2OK("CreateTags", "<return>true</return>")).
		On("ModifyInstanceAttribute", cloudtest.EC2OK("ModifyInstanceAttribute", "<return>true</return>"))
}
