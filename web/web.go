package web

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed static
var static embed.FS

//go:embed templates
var templates embed.FS

//go:embed i18n
var messages embed.FS

// Static returns the static assets, rooted at static/: paths such as
// "vendor/htmx/htmx.min.js".
func Static() fs.FS { return sub(static, "static") }

// Templates returns the console's html/template files, rooted at
// templates/.
func Templates() fs.FS { return sub(templates, "templates") }

// Messages returns the console's message catalogs, one <language>.json
// each (a flat object of message keys to text), rooted at i18n/.
func Messages() fs.FS { return sub(messages, "i18n") }

func sub(fsys embed.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		// dir is a literal that go:embed required to exist
		panic(fmt.Sprintf("web: %s: %v", dir, err))
	}
	return s
}
