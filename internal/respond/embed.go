package respond

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/goccy/go-yaml"
)

//go:embed playbooks/*.yaml
var builtinFS embed.FS

// BuiltinFS returns the embedded default playbooks (playbooks/*.yaml), for
// listing and for `canopy playbooks show`.
func BuiltinFS() fs.FS {
	sub, _ := fs.Sub(builtinFS, "playbooks")
	return sub
}

// Builtin loads the embedded default playbooks against reg. A playbook
// that uses an action reg does not have (the cloud actions, when
// internal/respond/cloud is not configured) is left out and listed in
// missing (playbook id → action names); any other problem is an error,
// caught by this package's tests.
func Builtin(reg *Registry) (pbs []*Playbook, missing map[string][]string, err error) {
	fsys := BuiltinFS()
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, nil, err
	}
	var errs []*PlaybookError
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, err
		}
		var head struct {
			ID    string `yaml:"id"`
			Steps []struct {
				Action string `yaml:"action"`
			} `yaml:"steps"`
			Options []struct {
				Steps []struct {
					Action string `yaml:"action"`
				} `yaml:"steps"`
			} `yaml:"options"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			return nil, nil, fmt.Errorf("respond: builtin %s: %w", name, err)
		}
		var absent []string
		check := func(action string) {
			if _, ok := reg.Lookup(action); !ok && action != "" && !slices.Contains(absent, action) {
				absent = append(absent, action)
			}
		}
		for _, s := range head.Steps {
			check(s.Action)
		}
		for _, o := range head.Options {
			for _, s := range o.Steps {
				check(s.Action)
			}
		}
		if len(absent) > 0 {
			if missing == nil {
				missing = map[string][]string{}
			}
			slices.Sort(absent)
			missing[head.ID] = absent
			continue
		}
		ps, es := parsePlaybooks("builtin:"+name, data, reg)
		pbs = append(pbs, ps...)
		errs = append(errs, es...)
	}
	errs = append(errs, duplicateIDs(pbs)...)
	if err := joinPlaybookErrors(errs); err != nil {
		return nil, nil, err
	}
	return pbs, missing, nil
}
