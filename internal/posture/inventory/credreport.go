package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CredentialReportFormat names the importer of the IAM credential report.
const CredentialReportFormat = "aws-credential-report"

// maxCredentialReportBytes bounds the JSON envelope of a report (the CSV
// itself is streamed).
const maxCredentialReportBytes = 64 << 20

func init() {
	register(Importer{
		Name:    CredentialReportFormat,
		Title:   "AWS IAM credential report (CSV, or get-credential-report JSON)",
		Version: 1,
		Notes: "The CSV of aws iam get-credential-report (decoded), or its JSON output with the base64 Content. " +
			"Each user row becomes a partial AWS::IAM::User (password_enabled, password_last_used, password_last_changed, " +
			"mfa_active, access_keys); the <root_account> row becomes the AWS::::Account resource (root_mfa_enabled, " +
			"root_access_keys_present, root_password_last_used, root_access_key_last_used). Merge them with the users of " +
			"another source by resource key",
		Sniff:  sniffCredentialReport,
		Import: importCredentialReport,
	})
}

const credReportHeader = "user,arn,user_creation_time,password_enabled"

func sniffCredentialReport(head []byte) int {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(h, []byte(credReportHeader)):
		return 95
	case len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"ReportFormat"`)) && bytes.Contains(h, []byte(`"Content"`)):
		return 90
	}
	return 0
}

func importCredentialReport(ctx context.Context, r io.Reader, emit Emit) error {
	br := bufio.NewReader(r)
	if b, err := br.Peek(1); err == nil && len(bytes.TrimSpace(b)) > 0 && b[0] == '{' {
		var env struct {
			Content      string `json:"Content"`
			ReportFormat string `json:"ReportFormat"`
		}
		dec := json.NewDecoder(io.LimitReader(br, maxCredentialReportBytes))
		if err := dec.Decode(&env); err != nil {
			return &RecordError{Importer: CredentialReportFormat, Offset: -1, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
		}
		data, err := base64.StdEncoding.DecodeString(env.Content)
		if err != nil {
			return &RecordError{Importer: CredentialReportFormat, Offset: -1, Field: "Content", Err: fmt.Errorf("%w: not base64: %v", ErrInvalidValue, err)}
		}
		br = bufio.NewReader(bytes.NewReader(data))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return &RecordError{Importer: CredentialReportFormat, Record: 0, Line: 1, Offset: -1, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"user", "arn", "password_enabled", "mfa_active"} {
		if _, ok := col[need]; !ok {
			return &RecordError{Importer: CredentialReportFormat, Line: 1, Offset: -1, Field: need, Err: fmt.Errorf("%w: not a credential report header", ErrMissingField)}
		}
	}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return &RecordError{Importer: CredentialReportFormat, Record: n, Line: line, Offset: cr.InputOffset(), Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
		}
		line := 0
		if len(rec) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		res, err := credReportRow(get)
		if err != nil {
			re := &RecordError{Importer: CredentialReportFormat, Record: n, Line: line, Offset: -1, Err: err}
			var fe *fieldError
			if errors.As(err, &fe) {
				re.Field, re.Err = fe.field, fe.err
			}
			return re
		}
		if err := emit(res); err != nil {
			return err
		}
	}
}

// credReportRow maps one row of the report.
func credReportRow(get func(string) string) (Resource, error) {
	user, arn := get("user"), get("arn")
	if arn == "" {
		return Resource{}, &fieldError{"arn", ErrMissingField}
	}
	account := arnAccount(arn)
	if account == "" {
		return Resource{}, &fieldError{"arn", fmt.Errorf("%w: %q has no account", ErrInvalidValue, arn)}
	}
	a := attrMap{}
	bools := func(k string) bool { b, _ := awsBool(get(k)); return b }
	keys := []any{}
	for _, i := range []string{"1", "2"} {
		p := "access_key_" + i + "_"
		if get(p+"active") == "" {
			continue
		}
		k := attrMap{"active": bools(p + "active")}
		k["status"] = map[bool]string{true: "Active", false: "Inactive"}[k["active"].(bool)]
		k.setTime("last_rotated", get(p+"last_rotated"))
		k.setTime("create_date", get(p+"last_rotated"))
		k.setTime("last_used_date", get(p+"last_used_date"))
		k.setStr("last_used_region", nonNA(get(p+"last_used_region")))
		k.setStr("last_used_service", nonNA(get(p+"last_used_service")))
		if _, rotated := k["last_rotated"]; rotated || k["active"] == true { // an unused slot reads false, N/A
			keys = append(keys, map[string]any(k))
		}
	}
	if user == "<root_account>" {
		a["root_mfa_enabled"] = bools("mfa_active")
		active := false
		var lastUsed string
		for _, k := range keys {
			m := k.(map[string]any)
			if m["active"] == true {
				active = true
			}
			if t, ok := m["last_used_date"].(string); ok && t > lastUsed {
				lastUsed = t
			}
		}
		a["root_access_keys_present"] = active
		a.setTime("root_password_last_used", get("password_last_used"))
		if lastUsed != "" {
			a["root_access_key_last_used"] = lastUsed
		}
		res := *NewAccount("aws", account)
		res.Attributes = map[string]any(a)
		res.Source = CredentialReportFormat
		return res, nil
	}
	a["user_name"] = user
	a.setTime("create_date", get("user_creation_time"))
	a["password_enabled"] = bools("password_enabled")
	a.setTime("password_last_used", get("password_last_used"))
	a.setTime("password_last_changed", get("password_last_changed"))
	a["mfa_active"] = bools("mfa_active")
	a["access_keys"] = keys
	return Resource{Provider: "aws", Account: account, Type: "AWS::IAM::User", UID: arn, Name: user,
		Attributes: map[string]any(a), Source: CredentialReportFormat}, nil
}

// nonNA returns "" for the report's placeholders.
func nonNA(s string) any {
	switch s {
	case "", "N/A", "not_supported", "no_information":
		return nil
	}
	return s
}
