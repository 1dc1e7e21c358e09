package web

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
)

// TestVendored: the four front-end packages and their licences are
// embedded, each file is the one web/vendor.sh copied (its sha256 is the
// one VERSIONS records), and nothing else is under vendor/.
func TestVendored(t *testing.T) {
	st := Static()
	for _, want := range []struct{ file, contains string }{
		{"vendor/htmx/htmx.min.js", "htmx"},
		{"vendor/htmx/LICENSE", ""},
		{"vendor/echarts/echarts.min.js", "echarts"},
		{"vendor/echarts/LICENSE", "Apache License"},
		{"vendor/echarts/NOTICE", "Apache ECharts"},
		{"vendor/pico/pico.min.css", "Pico CSS"},
		{"vendor/pico/LICENSE", ""},
	} {
		b, err := fs.ReadFile(st, want.file)
		if err != nil {
			t.Errorf("Static: %v", err)
			continue
		}
		if len(b) < 100 || !strings.Contains(string(b), want.contains) {
			t.Errorf("%s: %d bytes, want some with %q", want.file, len(b), want.contains)
		}
	}

	lock, err := fs.ReadFile(st, "vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{"vendor/VERSIONS": true}
	packages := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(lock))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "package" && len(f) == 4 && strings.HasPrefix(f[3], "sha512-"):
			packages[f[1]+"@"+f[2]] = true
		case f[0] == "file" && len(f) == 4 && strings.HasPrefix(f[2], "sha256:"):
			path := "vendor/" + f[1]
			listed[path] = true
			b, err := fs.ReadFile(st, path)
			if err != nil {
				t.Errorf("VERSIONS lists %s: %v", f[1], err)
				continue
			}
			sum := sha256.Sum256(b)
			if got := "sha256:" + hex.EncodeToString(sum[:]); got != f[2] {
				t.Errorf("%s is %s, VERSIONS records %s: run web/vendor.sh instead of editing vendored files", f[1], got, f[2])
			}
		default:
			t.Errorf("VERSIONS line %q", sc.Text())
		}
	}
	for _, p := range []string{"htmx.org@2.0.11", "echarts@6.1.0", "@picocss/pico@2.1.1"} {
		if !packages[p] {
			t.Errorf("VERSIONS has no package %s: %v", p, packages)
		}
	}
	err = fs.WalkDir(st, "vendor", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !listed[path] {
			t.Errorf("%s is not in VERSIONS", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTemplates(t *testing.T) {
	if _, err := fs.Stat(Templates(), "README.md"); err != nil {
		t.Errorf("Templates is not rooted at templates/: %v", err)
	}
	if _, err := fs.Stat(Static(), "vendor"); err != nil {
		t.Errorf("Static is not rooted at static/: %v", err)
	}
}
