// Package web holds the console's files: the html/template pages, the
// message catalogs of each language and the static assets (the pinned,
// vendored htmx, ECharts and Pico CSS with their licences, and the
// console's own CSS and JavaScript), embedded into the binary so that the
// console needs no build step and no network. internal/console serves them.
package web
