package posture

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/goccy/go-yaml"
)

// packsFS holds the built-in packs (packs/<pack id>/) and the reference
// data they are built from (packs/reference/, copied unchanged from the
// project's shared reference folder).
//
//go:embed packs
var packsFS embed.FS

// PacksFS returns the embedded packs directory: one folder per pack and
// reference/ with the reference files.
func PacksFS() fs.FS {
	sub, err := fs.Sub(packsFS, "packs")
	if err != nil { // "packs" is a valid path: cannot happen
		panic(err)
	}
	return sub
}

// responsibilityAreas are the area ids of the shared-responsibility matrix
// (packs/reference/shared-responsibility.yaml), read once.
var responsibilityAreas = sync.OnceValues(func() (map[string]bool, error) {
	const file = "packs/reference/shared-responsibility.yaml"
	data, err := packsFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("posture: %s: %w", file, err)
	}
	var doc struct {
		Areas []struct {
			ID string `yaml:"id"`
		} `yaml:"areas"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("posture: %s: %w", file, err)
	}
	areas := make(map[string]bool, len(doc.Areas))
	for _, a := range doc.Areas {
		areas[a.ID] = true
	}
	if len(areas) == 0 {
		return nil, fmt.Errorf("posture: %s: no areas", file)
	}
	return areas, nil
})

// ResponsibilityAreas returns the area ids a rule's responsibility_area
// may name, sorted.
func ResponsibilityAreas() ([]string, error) {
	areas, err := responsibilityAreas()
	if err != nil {
		return nil, err
	}
	return sortedKeys(areas), nil
}
