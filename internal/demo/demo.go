// Package demo holds a curated set of real tool outputs, copied from the
// public corpus, that `canopy serve --demo` loads into an empty data
// directory so that a new user sees findings and events at once.
//
// It only provides the files; cmd/canopy runs them through the ordinary
// ingest pipeline.
package demo

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed data
var files embed.FS

//go:embed inventory
var inventory embed.FS

// File is one demo input.
type File struct {
	Name string
	Data []byte
}

// Files returns the demo inputs in name order.
func Files() ([]File, error) {
	entries, err := fs.ReadDir(files, "data")
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		if e.Name() == "README.md" {
			continue
		}
		b, err := files.ReadFile("data/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: e.Name(), Data: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inventory returns the demo's cloud inventory (Canopy JSON lines: an AWS
// account with five misconfigurations), for the posture packs to check.
func Inventory() ([]File, error) {
	entries, err := fs.ReadDir(inventory, "inventory")
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		b, err := inventory.ReadFile("inventory/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: e.Name(), Data: b})
	}
	return out, nil
}
