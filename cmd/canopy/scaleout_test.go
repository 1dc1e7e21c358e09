package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go"

	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
)

// services returns the PostgreSQL and NATS URLs for the scale-out tests, or
// skips the test (fails it under CI) when they are unreachable.
func services(t testing.TB) (pgBase, natsURL string) {
	t.Helper()
	pgBase = os.Getenv("CANOPY_TEST_POSTGRES")
	if pgBase == "" {
		pgBase = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	natsURL = os.Getenv("CANOPY_TEST_NATS")
	if natsURL == "" {
		natsURL = nats.DefaultURL
	}
	for _, u := range []string{pgBase, natsURL} {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.DialTimeout("tcp", pu.Host, 2*time.Second)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is unreachable under CI: %v", pu.Host, err)
			}
			t.Skipf("%s unreachable: %v", pu.Host, err)
		}
		c.Close()
	}
	return pgBase, natsURL
}

// freshDatabase creates an empty PostgreSQL database and returns its URL.
func freshDatabase(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("canopy_crash_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

func buildCanopy(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "canopy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type worker struct {
	cmd  *exec.Cmd
	logs *os.File
}

// TestScaleOutCrash is the scale-out acceptance check: a 100,000-finding
// report ingested through NATS JetStream by two worker processes into
// PostgreSQL; one worker is killed with SIGKILL mid-stream and restarted.
// Afterwards the store holds exactly one finding per distinct fingerprint,
// each counted once; re-ingesting counts each twice.
func TestScaleOutCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	pgBase, natsURL := services(t)
	db := freshDatabase(t, pgBase)
	bin := buildCanopy(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "trivy-100k.json")
	f, err := os.Create(report)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ingesttest.TrivyReport(w, 100_000)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	stream := fmt.Sprintf("CANOPY_CRASH_%d", time.Now().UnixNano())
	busArgs := []string{"--nats", natsURL, "--nats-stream", stream, "--nats-consumer", "crash-workers", "--nats-ack-wait", "5s", "--store", db}
	t.Cleanup(func() { deleteStream(natsURL, stream) })

	start := func(i int) *worker {
		logs, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d-%d.log", i, time.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"serve", "--role", "worker", "--addr", "127.0.0.1:0", "--workers", "2"}, busArgs...)
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return &worker{cmd: cmd, logs: logs}
	}
	w1, w2 := start(1), start(2)
	defer func() {
		for _, w := range []*worker{w1, w2} {
			w.cmd.Process.Kill()
			w.cmd.Wait()
			w.logs.Close()
		}
	}()

	pg, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	ingestOnce := func(kill bool) {
		out, err := exec.Command(bin, append([]string{"ingest", "--no-wait", "--output", "json", report}, busArgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ingest: %v\n%s", err, out)
		}
		var jobID string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, `"job"`) {
				jobID = strings.Trim(strings.TrimSpace(strings.SplitN(line, ":", 2)[1]), `",`)
			}
		}
		if jobID == "" {
			t.Fatalf("no job in %s", out)
		}
		killed := !kill
		deadline := time.Now().Add(5 * time.Minute)
		for {
			var done, total int
			var status string
			if err := pg.QueryRow("SELECT batches_done, batches, status FROM jobs WHERE id = $1", jobID).Scan(&done, &total, &status); err != nil {
				t.Fatal(err)
			}
			if status == "done" {
				break
			}
			if !killed && done >= total/4 {
				// SIGKILL mid-stream, then a new worker process in its place
				w1.cmd.Process.Kill()
				w1.cmd.Wait()
				t.Logf("killed worker 1 at %d of %d batches", done, total)
				w1 = start(1)
				killed = true
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s not done: %d of %d batches", jobID, done, total)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	check := func(wantCount int) {
		var n, distinct, minCount, maxCount, docs int
		err := pg.QueryRow("SELECT count(*), count(DISTINCT fingerprint), min(count), max(count) FROM findings").Scan(&n, &distinct, &minCount, &maxCount)
		if err != nil {
			t.Fatal(err)
		}
		pg.QueryRow("SELECT count(*) FROM finding_docs").Scan(&docs)
		if n != 100_000 || distinct != 100_000 || docs != 100_000 || minCount != wantCount || maxCount != wantCount {
			t.Errorf("findings %d, distinct fingerprints %d, docs %d, counts %d..%d; want 100000 each and count %d", n, distinct, docs, minCount, maxCount, wantCount)
		}
		var stale int
		pg.QueryRow("SELECT count(*) FROM findings WHERE last_seen < (SELECT max(last_seen) FROM findings)").Scan(&stale)
		if stale != 0 {
			t.Errorf("%d findings with an older last_seen than the latest ingest", stale)
		}
	}
	ingestOnce(true)
	check(1)
	ingestOnce(false)
	check(2)
}

func deleteStream(natsURL, stream string) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := nc.JetStream(); err == nil {
		js.DeleteStream(stream)
	}
}

// TestSameFindingsOnBothStores is the hold-out check across backends: the
// same reports ingested twice with --store sqlite:… and with --store
// postgres://… list the same findings and events: same fingerprints, counts
// and OCSF documents, byte for byte (but for "time" where a source had none
// and the ingest time stands in). Ids are surrogate keys and may differ.
func TestSameFindingsOnBothStores(t *testing.T) {
	pgBase, _ := services(t)
	pg := freshDatabase(t, pgBase)
	lite := "sqlite:" + filepath.Join(t.TempDir(), "canopy.db")
	var inputs []string
	for _, paths := range corpusFiles(t) {
		inputs = append(inputs, paths...)
	}
	for _, spec := range []string{lite, pg} {
		for i := 0; i < 2; i++ { // twice: counts must agree too
			args := append([]string{"ingest", "--store", spec}, inputs...)
			if r := canopy(t, "", args...); r.code != 0 {
				t.Fatalf("ingest into %s: %s", spec, r.stderr)
			}
		}
	}
	type rec struct {
		Fingerprint string
		Count       int
		LastSeen    time.Time `json:"last_seen"`
		OCSF        map[string]json.RawMessage
	}
	for _, what := range []string{"findings", "events"} {
		var byFP [2]map[string]rec
		for i, spec := range []string{lite, pg} {
			r := canopy(t, "", what, "--store", spec, "--output", "json", "--limit", "0")
			if r.code != 0 {
				t.Fatalf("%s from %s: %s", what, spec, r.stderr)
			}
			var list []rec
			if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
				t.Fatal(err)
			}
			byFP[i] = map[string]rec{}
			for _, x := range list {
				if string(x.OCSF["time"]) == fmt.Sprint(x.LastSeen.UnixMilli()) {
					delete(x.OCSF, "time") // the ingest time stood in
				}
				byFP[i][x.Fingerprint] = x
			}
		}
		if len(byFP[0]) == 0 || len(byFP[0]) != len(byFP[1]) {
			t.Fatalf("%s: %d on SQLite, %d on PostgreSQL", what, len(byFP[0]), len(byFP[1]))
		}
		bad := 0
		for fp, a := range byFP[0] {
			b, ok := byFP[1][fp]
			if !ok || a.Count != b.Count || len(a.OCSF) != len(b.OCSF) {
				t.Errorf("%s %s: sqlite count %d, %d attributes; postgres (present %v) count %d, %d attributes", what, fp, a.Count, len(a.OCSF), ok, b.Count, len(b.OCSF))
				bad++
				continue
			}
			for k, v := range a.OCSF {
				if string(b.OCSF[k]) != string(v) {
					t.Errorf("%s %s: %s differs:\nsqlite   %.200s\npostgres %.200s", what, fp, k, v, b.OCSF[k])
					bad++
					break
				}
			}
			if bad > 5 {
				break
			}
		}
	}
}

// BenchmarkScaleOut ingests the generated 100,000-vulnerability Trivy report
// through NATS JetStream into PostgreSQL with one and with two worker
// processes (two handlers each), and directly into PostgreSQL and SQLite,
// timing each from the start of `canopy ingest` until every finding is
// committed.
//
//	go test ./cmd/canopy -run XXX -bench ScaleOut -benchtime 1x -count 3
func BenchmarkScaleOut(b *testing.B) {
	pgBase, natsURL := services(b)
	bin := buildCanopy(b)
	report := filepath.Join(b.TempDir(), "trivy-100k.json")
	f, err := os.Create(report)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ingesttest.TrivyReport(w, 100_000)
	w.Flush()
	f.Close()
	run := func(b *testing.B, args ...string) {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	for _, mode := range []string{"nats-postgres-1-worker", "nats-postgres-2-workers", "direct-postgres", "direct-sqlite"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				store := "sqlite:" + filepath.Join(b.TempDir(), "canopy.db")
				if mode != "direct-sqlite" {
					store = freshDatabase(b, pgBase)
				}
				args := []string{"ingest", "--store", store, report}
				var workers []*exec.Cmd
				if strings.HasPrefix(mode, "nats") {
					stream := fmt.Sprintf("CANOPY_BENCH_%d", time.Now().UnixNano())
					bus := []string{"--nats", natsURL, "--nats-stream", stream, "--nats-consumer", "bench", "--store", store}
					n := 1
					if mode == "nats-postgres-2-workers" {
						n = 2
					}
					for i := 0; i < n; i++ {
						cmd := exec.Command(bin, append([]string{"serve", "--role", "worker", "--addr", "127.0.0.1:0"}, bus...)...)
						if err := cmd.Start(); err != nil {
							b.Fatal(err)
						}
						workers = append(workers, cmd)
					}
					args = append([]string{"ingest", report}, bus...)
					defer deleteStream(natsURL, stream)
				}
				time.Sleep(time.Second) // let the workers connect
				b.StartTimer()
				start := time.Now()
				run(b, args...)
				total += time.Since(start)
				b.StopTimer()
				for _, w := range workers {
					w.Process.Signal(os.Interrupt)
					w.Wait()
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(100_000*b.N)/total.Seconds(), "findings/s")
		})
	}
}
