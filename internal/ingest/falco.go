package ingest

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "falco",
		Title:   "Falco alerts (JSON output)",
		Version: 1,
		Classes: []int{ocsf.ClassDetectionFinding},
		Notes: "Falco json_output alerts as JSON lines (also as forwarded by falcosidekick, with uuid), any Falco version " +
			"(2016-era output with evt.time.iso8601 and no tags or hostname included). Each alert is a Detection Finding: " +
			"rule → analytic and title, output → finding_info.desc, priority → severity (Emergency, Alert, Critical → " +
			"Critical; Error → High; Warning → Medium; Notice → Low; Informational, Debug → Informational; any letter case), " +
			"source → finding_info.data_sources, tags → finding_info.types and ATT&CK (T#### → technique, mitre_* → tactic), " +
			"hostname → device, output_fields → evidences (process, user, container, file or connection from fd.*, " +
			"k8s audit verb and user) and resources (pod, container, k8s audit target, else the host); the other " +
			"output_fields stay in unmapped. OCSF requires a pid on a process: without proc.pid the proc.* fields go " +
			"into the evidence's data. finding_info.uid is the uuid when present, else a hash of the raw line. A time " +
			"that does not parse falls back to output_fields evt.time (else time is 0) and is kept in unmapped.time. " +
			"Lines with source \"internal\" (metrics snapshots) are not alerts and are skipped.",
		Sniff:  sniffFalco,
		Decode: decodeFalco,
	})
}

func sniffFalco(head []byte) int {
	switch {
	case sniffHas(head, `"output_fields"`, `"priority"`, `"rule"`):
		return 90
	case sniffHas(head, `"output"`, `"priority"`, `"rule"`) && !sniffHas(head, `"level"`):
		return 60
	}
	return 0
}

func decodeFalco(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "falco", r, nil, emit, func(it jsonstream.Item, emit Emit) error {
		f, err := decodeMap(it.Raw)
		if err != nil {
			return err
		}
		if asString(f.get("source")) == "internal" {
			return nil // metrics snapshot, not an alert
		}
		rec, err := mapFalco(f, it.Raw)
		if err != nil {
			return err
		}
		return emit(rec)
	})
}

func mapFalco(f fields, raw []byte) (*ocsf.DetectionFinding, error) {
	rule := f.str("rule")
	if rule == "" {
		return nil, missing("rule")
	}
	d := &ocsf.DetectionFinding{}
	d.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
	d.SetStatus(ocsf.FindingStatusNew, "")
	d.IsAlert = boolPtr(true)
	d.Metadata.Product = ocsf.Product{Name: "Falco", VendorName: "Falco Project"}

	prio := f.str("priority")
	if sev := ocsf.SeverityFromLabel(prio); sev != ocsf.SeverityUnknown || prio == "" {
		d.SetSeverity(sev, "")
	} else {
		d.SetSeverity(ocsf.SeverityOther, prio)
	}

	of := fields{}
	if m, ok := f.take("output_fields").(map[string]any); ok {
		of = fields(m)
	}
	// take reads the flat, dotted output_fields keys; "<NA>" is Falco's empty.
	take := func(k string) string {
		v, ok := of[k]
		if !ok {
			return ""
		}
		delete(of, k)
		s := asString(v)
		if s == "<NA>" {
			return ""
		}
		return s
	}

	if ts := f.str("time"); ts != "" {
		if t, err := parseTime(ts); err == nil {
			d.SetTime(t)
		} else {
			d.AddUnmapped("time", ts)
		}
	}
	if d.Time == 0 {
		for _, k := range []string{"evt.time", "evt.time.iso8601"} {
			if t, err := anyTime(of[k]); err == nil {
				delete(of, k)
				d.SetTime(t)
				break
			}
		}
	}

	uid := f.str("uuid")
	if uid == "" {
		uid = contentID(raw)
	}
	d.FindingInfo = ocsf.FindingInfo{
		UID:      uid,
		Title:    rule,
		Desc:     f.str("output"),
		Analytic: ocsf.NewAnalytic(ocsf.AnalyticTypeRule, rule, rule),
	}
	if src := f.str("source"); src != "" {
		d.FindingInfo.DataSources = []string{src}
	}
	var tactics []ocsf.Tactic
	var attacks []ocsf.Attack
	for _, tag := range asStrings(f.take("tags")) {
		d.FindingInfo.Types = append(d.FindingInfo.Types, tag)
		switch {
		case isTechniqueID(tag):
			a := ocsf.Attack{Technique: &ocsf.Technique{UID: tag}}
			if base, _, ok := strings.Cut(tag, "."); ok {
				a = ocsf.Attack{Technique: &ocsf.Technique{UID: base}, SubTechnique: &ocsf.Technique{UID: tag}}
			}
			attacks = append(attacks, a)
		case strings.HasPrefix(tag, "mitre_"):
			if t, ok := tacticFromName(tag); ok {
				tactics = append(tactics, t)
			}
		}
	}
	d.FindingInfo.Attacks = joinTactics(attacks, tactics)

	host := firstNonEmpty(f.str("hostname"), take("evt.hostname"))
	if host != "" {
		d.Device = &ocsf.Device{Hostname: host}
		d.Device.SetType(ocsf.DeviceTypeUnknown)
		d.AddObservable("device.hostname", ocsf.ObservableHostname, "Hostname", host)
	}

	ev := ocsf.Evidence{}
	// process
	pid, _ := strconv.Atoi(take("proc.pid"))
	pnames := []string{"proc.name", "proc.cmdline", "proc.exepath", "proc.cwd", "proc.pname", "proc.pcmdline", "proc.ppid"}
	if pid > 0 {
		p := &ocsf.Process{PID: pid, Name: take("proc.name"), CmdLine: take("proc.cmdline"), Path: take("proc.exepath"), WorkingDirectory: take("proc.cwd")}
		if ppid, _ := strconv.Atoi(take("proc.ppid")); ppid > 0 {
			p.ParentProcess = &ocsf.Process{PID: ppid, Name: take("proc.pname"), CmdLine: take("proc.pcmdline")}
		}
		ev.Process = p
	} else {
		data := map[string]any{}
		for _, k := range pnames {
			if v := take(k); v != "" {
				data[k] = v
			}
		}
		if len(data) > 0 {
			ev.Data = data
		}
	}
	// user
	if u := (ocsf.User{Name: firstNonEmpty(take("user.name"), take("ka.user.name")), UID: take("user.uid")}); u.Name != "" || u.UID != "" {
		if ev.Process != nil {
			ev.Process.User = &u
		}
		ev.User = &u
	}
	// container
	cid, cname := take("container.id"), take("container.name")
	if cid == "host" {
		cid = ""
	}
	if cid != "" || cname != "" {
		c := &ocsf.Container{UID: cid, Name: cname}
		repo, tag, imgID := take("container.image.repository"), take("container.image.tag"), take("container.image.id")
		if img := take("container.image"); repo == "" {
			repo = img
		}
		if repo != "" || imgID != "" {
			ref := repo
			if tag != "" {
				ref += ":" + tag
			}
			c.Image = &ocsf.Image{UID: firstNonEmpty(imgID, ref), Name: repo, Tag: tag}
		}
		ev.Container = c // process.container would need the container profile
	}
	// network or file
	src := falcoEndpoint(take("fd.sip"), take("fd.sport"))
	dst := falcoEndpoint(take("fd.dip"), take("fd.dport"))
	fd := of["fd.name"]
	if name := asString(fd); src == nil && dst == nil && strings.Contains(name, "->") {
		a, b, _ := strings.Cut(name, "->")
		src, dst = falcoHostPort(a), falcoHostPort(b)
		if src != nil || dst != nil {
			delete(of, "fd.name")
		}
	} else if strings.Contains(name, "->") {
		delete(of, "fd.name") // the same connection as fd.sip/fd.dip
	} else if strings.HasPrefix(name, "/") {
		delete(of, "fd.name")
		file := &ocsf.File{Name: baseName(name), Path: name}
		switch take("fd.type") {
		case "file":
			file.TypeID, file.Type = ocsf.FileTypeRegular, "Regular File"
		case "directory":
			file.TypeID, file.Type = ocsf.FileTypeFolder, "Folder"
		default:
			file.TypeID, file.Type = ocsf.FileTypeUnknown, "Unknown"
		}
		ev.File = file
	}
	ev.SrcEndpoint, ev.DstEndpoint = src, dst
	if (src != nil || dst != nil) && of["fd.l4proto"] != nil {
		ev.ConnectionInfo = &ocsf.ConnectionInfo{ProtocolName: take("fd.l4proto")}
		ev.ConnectionInfo.SetDirection(ocsf.DirectionUnknown, "")
	}
	// k8s audit
	if verb := take("ka.verb"); verb != "" {
		ev.API = &ocsf.API{Operation: verb}
		if code, err := strconv.Atoi(asString(of["ka.response.code"])); err == nil {
			delete(of, "ka.response.code")
			ev.API.Response = &ocsf.Response{Code: code}
		}
	}
	if ev.Process != nil || ev.Data != nil || ev.User != nil || ev.File != nil || ev.SrcEndpoint != nil || ev.DstEndpoint != nil || ev.API != nil {
		d.Evidences = []ocsf.Evidence{ev}
	}

	// resources: what the alert is about
	if pod := take("k8s.pod.name"); pod != "" {
		ns := take("k8s.ns.name")
		d.Resources = append(d.Resources, ocsf.ResourceDetails{UID: ns + "/" + pod, Name: pod, Namespace: ns, Type: "Kubernetes Pod"})
	} else if ev.Container != nil {
		d.Resources = append(d.Resources, ocsf.ResourceDetails{UID: ev.Container.UID, Name: ev.Container.Name, Type: "Container"})
	}
	if name := take("ka.target.name"); name != "" {
		res, ns := take("ka.target.resource"), take("ka.target.namespace")
		uid := res + "/" + name
		if ns != "" {
			uid = ns + "/" + uid
		}
		if sub := take("ka.target.subresource"); sub != "" {
			uid += "/" + sub
		}
		d.Resources = append(d.Resources, ocsf.ResourceDetails{UID: uid, Name: name, Namespace: ns, Type: "Kubernetes " + firstNonEmpty(res, "object")})
	}
	if len(d.Resources) == 0 && host != "" {
		d.Resources = append(d.Resources, ocsf.ResourceDetails{Name: host, Hostname: host, Type: "Host"})
	}
	for i := range d.Resources {
		d.Resources[i].RoleID, d.Resources[i].Role = ocsf.ResourceRoleTarget, "Target"
	}
	if len(d.Resources) > 0 && d.Resources[0].UID != "" {
		d.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", d.Resources[0].UID)
	}

	if len(of) > 0 {
		d.AddUnmapped("output_fields", map[string]any(of))
	}
	for k, v := range pruneNested(f.rest()) {
		d.AddUnmapped(k, v)
	}
	return d, nil
}

// joinTactics gives each technique the rule's tactic when it names one, and
// lists tactics on their own otherwise.
func joinTactics(attacks []ocsf.Attack, tactics []ocsf.Tactic) []ocsf.Attack {
	if len(tactics) == 1 && len(attacks) > 0 {
		for i := range attacks {
			t := tactics[0]
			attacks[i].Tactic = &t
		}
		return attacks
	}
	for i := range tactics {
		attacks = append(attacks, ocsf.Attack{Tactic: &tactics[i]})
	}
	return attacks
}

func falcoEndpoint(ip, port string) *ocsf.NetworkEndpoint {
	if !validIP(ip) {
		return nil
	}
	ep := &ocsf.NetworkEndpoint{IP: ip}
	if p, err := strconv.Atoi(port); err == nil && p > 0 && p <= 65535 {
		ep.Port = p
	}
	return ep
}

// falcoHostPort parses one side of a Falco fd.name connection ("10.0.0.1:443").
func falcoHostPort(s string) *ocsf.NetworkEndpoint {
	h, p, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	return falcoEndpoint(h, p)
}

// isTechniqueID reports whether s is an ATT&CK technique or sub-technique id
// (T1059, T1059.004).
func isTechniqueID(s string) bool {
	if len(s) != 5 && len(s) != 9 || s[0] != 'T' || !isDigits(s[1:5]) {
		return false
	}
	return len(s) == 5 || s[5] == '.' && isDigits(s[6:])
}
