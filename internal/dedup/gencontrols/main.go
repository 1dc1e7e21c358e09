// Command gencontrols writes internal/dedup/controls.json, the map from
// Prowler check ids to the CIS controls they test, from the CIS reference
// data (reference/cis-aws.yaml, reference/cis-alicloud.yaml: the primary
// version of each benchmark). Run it through go generate in internal/dedup:
//
//	go generate ./internal/dedup
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/goccy/go-yaml"
)

type reference struct {
	Versions []struct {
		Version  string `yaml:"version"`
		Primary  bool   `yaml:"primary"`
		Controls []struct {
			ID            string   `yaml:"id"`
			ProwlerChecks []string `yaml:"prowler_checks"`
		} `yaml:"controls"`
	} `yaml:"versions"`
}

// Controls is the file's shape: per benchmark, each Prowler check's CIS
// control ids, sorted.
type Controls struct {
	Generated  string                         `json:"generated"`
	Benchmarks map[string]map[string][]string `json:"benchmarks"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gencontrols REFERENCE_DIR OUT.json")
		os.Exit(2)
	}
	out := Controls{Generated: "by internal/dedup/gencontrols from the CIS reference data; do not edit", Benchmarks: map[string]map[string][]string{}}
	for file, name := range map[string]string{"cis-aws.yaml": "cis-aws", "cis-alicloud.yaml": "cis-alicloud"} {
		data, err := os.ReadFile(filepath.Join(os.Args[1], file))
		if err != nil {
			fail(err)
		}
		var ref reference
		if err := yaml.Unmarshal(data, &ref); err != nil {
			fail(fmt.Errorf("%s: %w", file, err))
		}
		for _, v := range ref.Versions {
			if !v.Primary {
				continue
			}
			m := map[string][]string{}
			for _, c := range v.Controls {
				for _, p := range c.ProwlerChecks {
					m[p] = append(m[p], c.ID)
				}
			}
			for _, ids := range m {
				sort.Strings(ids)
			}
			major := v.Version
			if len(major) > 3 {
				major = major[:3] // "3.0.0" → "3.0"
			}
			out.Benchmarks[name+"-"+major] = m
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(os.Args[2], append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencontrols:", err)
	os.Exit(1)
}
