package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

//go:embed templates
var templates embed.FS

//go:embed i18n
var messages embed.FS

// Static returns the static assets, rooted at static/.
func Static() fs.FS { return sub(static, "static") }

// Templates returns the page templates, rooted at templates/.
func Templates() fs.FS { return sub(templates, "templates") }

// Messages returns the message catalogs (one <lang>.json each), rooted at
// i18n/.
func Messages() fs.FS { return sub(messages, "i18n") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return s
}
