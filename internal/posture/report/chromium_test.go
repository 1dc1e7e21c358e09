package report

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// findChromium returns the Chromium binary to render with: $CANOPY_CHROMIUM,
// else chromium or chromium-browser on $PATH.
func findChromium() (string, bool) {
	if p := os.Getenv("CANOPY_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// TestChromiumRender renders the HTML reports of the golden cases with
// headless Chromium, as a screenshot and as a PDF, and checks both are
// produced and not blank: the PNG decodes and has more than one colour,
// the PDF starts with %PDF. Without Chromium it skips, unless $CI is set:
// then it fails, so that CI cannot pass without rendering. With -update it
// writes a half-size screenshot of the CIS AWS report to
// testdata/report-screenshot.png.
//
// Chromium gets its own profile directory and no network beyond the
// file:// page, which loads nothing.
func TestChromiumRender(t *testing.T) {
	bin, ok := findChromium()
	if !ok {
		msg := "no Chromium: install the chromium package (Debian: apt-get install -y chromium fonts-noto-cjk) or set CANOPY_CHROMIUM to its binary"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " ($CI is set: the render check may not be skipped)")
		}
		t.Skip(msg)
	}
	for _, tc := range goldenCases {
		t.Run(tc.pack, func(t *testing.T) {
			rep, err := Build(scanInput(t, tc.pack, tc.inventory))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			page := filepath.Join(dir, "report.html")
			var buf bytes.Buffer
			if err := WriteHTML(&buf, rep); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			pageURL := (&url.URL{Scheme: "file", Path: page}).String()
			shot := filepath.Join(dir, "out.png")
			pdf := filepath.Join(dir, "out.pdf")
			runChromium(t, bin, dir, "--screenshot="+shot, "--window-size=1280,2000", pageURL)
			runChromium(t, bin, dir, "--print-to-pdf="+pdf, "--no-pdf-header-footer", pageURL)

			img := checkPNG(t, shot)
			// The summary, then each section and the evidence list on
			// pages of their own.
			checkPDF(t, pdf, 1+len(rep.Sections)+1)
			if *update && tc.pack == "cis-aws-3.0" {
				var out bytes.Buffer
				if err := png.Encode(&out, halve(img)); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("testdata", "report-screenshot.png"), out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runChromium runs one headless Chromium command with a profile in dir.
// The deadline only keeps a hung browser from hanging the test run.
func runChromium(t *testing.T, bin, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only",
		"--hide-scrollbars",
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
}

// checkPNG decodes file and requires an image of more than one colour.
func checkPNG(t *testing.T, file string) image.Image {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, a0 := first.RGBA()
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < 2 {
		t.Fatalf("screenshot is a single colour (%d,%d,%d,%d)", r0, g0, b0, a0)
	}
	// The report's status colours are saturated; a page that rendered
	// its charts has some.
	if !colours[rgba(0x2d, 0xa4, 0x4e)] && !colours[rgba(0xcf, 0x22, 0x2e)] {
		t.Errorf("screenshot has %d colours but neither the passed nor the failed colour of the charts", len(colours))
	}
	return img
}

func rgba(r, g, b uint8) [4]uint32 {
	return [4]uint32{uint32(r) * 0x101, uint32(g) * 0x101, uint32(b) * 0x101, 0xffff}
}

// checkPDF requires a PDF of some size with at least minPages pages (as
// its page tree counts them).
func checkPDF(t *testing.T, file string, minPages int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("PDF not written: %v", err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Fatalf("PDF starts with %q", data[:min(len(data), 16)])
	}
	if len(data) < 10_000 {
		t.Errorf("PDF is only %d bytes", len(data))
	}
	pages := 0
	for _, m := range pageCountRE.FindAllSubmatch(data, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		pages = max(pages, n)
	}
	if pages < minPages {
		t.Errorf("PDF has %d pages, want at least %d (a page break before each section)", pages, minPages)
	}
}

// pageCountRE finds the page counts of a PDF's page tree nodes; the root's is
// the largest.
var pageCountRE = regexp.MustCompile(`/Count\s+(\d+)`)

// halve scales img to half its size, averaging each 2×2 block.
func halve(img image.Image) image.Image {
	src := image.NewRGBA(img.Bounds())
	draw.Draw(src, src.Bounds(), img, img.Bounds().Min, draw.Src)
	o := src.Bounds().Min
	w, h := src.Bounds().Dx()/2, src.Bounds().Dy()/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			for c := range 4 {
				sum := 0
				for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					sum += int(src.Pix[src.PixOffset(o.X+2*x+d[0], o.Y+2*y+d[1])+c])
				}
				dst.Pix[dst.PixOffset(x, y)+c] = uint8(sum / 4)
			}
		}
	}
	return dst
}
