// Package web holds the console's files, embedded into the binary: the
// html/template pages under templates/, their message catalogs (en,
// zh-CN) under i18n/, and the static assets under
// static/ (the console's own CSS and JavaScript, and the front-end
// packages web/vendor.sh copies from npm into static/vendor/, pinned and
// verified by static/vendor/VERSIONS). The console serves them; nothing
// is built or fetched at run time.
//
// The vendored files, as paths in [Static]:
//
//	vendor/htmx/htmx.min.js        htmx.org 2.0.11
//	vendor/echarts/echarts.min.js  echarts 6.1.0
//	vendor/pico/pico.min.css       @picocss/pico 2.1.1
//
// each folder with its package's licence files.
//
// The browser tests of the console are in e2e/ (Playwright, driven by
// cmd/canopy's TestConsoleBrowser).
package web
