package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/cloud"
)

// respondConfig is the response stage's configuration (--respond-config).
type respondConfig struct {
	// Auto evaluates the incidents and findings a correlation wrote or
	// routed (ingest, serve); default true.
	Auto bool
	// Threshold is the risk from which playbooks without their own
	// threshold ask for approval; 0: respond.DefaultThreshold.
	Threshold int
	// SLA is the case SLA policy; nil: respond.DefaultSLAPolicy.
	SLA *respond.SLAPolicy
	// StaleAfter is how long a running run may go without a change
	// before it counts as stopped; 0: the engine's default.
	StaleAfter time.Duration
	// Outbound is the outbound guard of the ticket actions; nil: the
	// notification config's.
	Outbound *notify.ClientOptions
	Jira     *respond.JiraConfig          // Client not set
	Webhook  *respond.WebhookTicketConfig // Client not set
	AWS      *cloud.AWSOptions
	Alibaba  *cloud.AlibabaOptions
}

// respondFile is the YAML shape of --respond-config.
type respondFile struct {
	Auto       *bool          `yaml:"auto"`
	Threshold  *int           `yaml:"threshold"`
	StaleAfter time.Duration  `yaml:"stale_after"`
	SLA        map[string]any `yaml:"sla"`
	SLAFile    string         `yaml:"sla_file"`
	Outbound   *struct {
		AllowHosts        []string      `yaml:"allow_hosts"`
		AllowPrivate      bool          `yaml:"allow_private"`
		AllowLoopback     bool          `yaml:"allow_loopback"`
		AllowInsecureHTTP bool          `yaml:"allow_insecure_http"`
		Timeout           time.Duration `yaml:"timeout"`
		MaxResponseBytes  int64         `yaml:"max_response_bytes"`
	} `yaml:"outbound"`
	Tickets struct {
		Jira *struct {
			BaseURL   string `yaml:"base_url"`
			User      string `yaml:"user"`
			UserEnv   string `yaml:"user_env"`
			TokenEnv  string `yaml:"token_env"`
			TokenFile string `yaml:"token_file"`
		} `yaml:"jira"`
		Webhook *struct {
			URL       string `yaml:"url"`
			TokenEnv  string `yaml:"token_env"`
			TokenFile string `yaml:"token_file"`
		} `yaml:"webhook"`
	} `yaml:"tickets"`
	Cloud struct {
		AWS *struct {
			Region      string `yaml:"region"`
			Endpoint    string `yaml:"endpoint"`
			EC2Endpoint string `yaml:"ec2_endpoint"`
			S3Endpoint  string `yaml:"s3_endpoint"`
			IAMEndpoint string `yaml:"iam_endpoint"`
			MaxAttempts int    `yaml:"max_attempts"`
		} `yaml:"aws"`
		Alibaba *struct {
			RegionID    string `yaml:"region_id"`
			ECSEndpoint string `yaml:"ecs_endpoint"`
			RAMEndpoint string `yaml:"ram_endpoint"`
		} `yaml:"alibaba"`
	} `yaml:"cloud"`
}

// loadRespondConfig reads a response configuration. Decoding is strict
// (unknown keys are errors); secrets come from the environment or files
// named in it, never from the file itself; paths are relative to the
// file's directory.
func loadRespondConfig(path string, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (respondConfig, error) {
	cfg := respondConfig{Auto: true}
	if path == "" {
		return cfg, nil
	}
	data, err := readFile(path)
	if err != nil {
		return cfg, fmt.Errorf("respond config: %w", err)
	}
	var f respondFile
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
			return cfg, fmt.Errorf("respond config %s: %s", path, yaml.FormatError(err, false, true))
		}
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("respond config %s: "+format, append([]any{path}, args...)...))
	}
	if f.Auto != nil {
		cfg.Auto = *f.Auto
	}
	if f.Threshold != nil {
		if *f.Threshold < 1 || *f.Threshold > 100 {
			bad("threshold: %d: want 1 to 100 (a playbook that always asks says approval.always)", *f.Threshold)
		}
		cfg.Threshold = *f.Threshold
	}
	if f.StaleAfter < 0 {
		bad("stale_after: must not be negative")
	}
	cfg.StaleAfter = f.StaleAfter
	switch {
	case f.SLA != nil && f.SLAFile != "":
		bad("sla and sla_file: give one")
	case f.SLA != nil:
		b, err := yaml.Marshal(f.SLA)
		if err == nil {
			var p respond.SLAPolicy
			if p, err = respond.LoadSLAPolicy(bytes.NewReader(b)); err == nil {
				cfg.SLA = &p
			}
		}
		if err != nil {
			bad("sla: %v", err)
		}
	case f.SLAFile != "":
		b, err := readFile(rel(f.SLAFile))
		if err == nil {
			var p respond.SLAPolicy
			if p, err = respond.LoadSLAPolicy(bytes.NewReader(b)); err == nil {
				cfg.SLA = &p
			}
		}
		if err != nil {
			bad("sla_file %s: %v", f.SLAFile, err)
		}
	}
	if o := f.Outbound; o != nil {
		if o.Timeout < 0 || o.MaxResponseBytes < 0 {
			bad("outbound: values must not be negative")
		}
		cfg.Outbound = &notify.ClientOptions{AllowHosts: o.AllowHosts, AllowPrivate: o.AllowPrivate, AllowLoopback: o.AllowLoopback,
			AllowInsecureHTTP: o.AllowInsecureHTTP, Timeout: o.Timeout, MaxResponseBytes: o.MaxResponseBytes, UserAgent: "canopy-respond"}
	}
	secret := func(where, env, file string, required bool) string {
		switch {
		case env != "" && file != "":
			bad("%s: give %s_env or %s_file, not both", where, where, where)
		case env != "":
			v, ok := lookupEnv(env)
			if !ok || v == "" {
				bad("%s_env: $%s is not set", where, env)
			}
			return strings.TrimSpace(v)
		case file != "":
			b, err := readFile(rel(file))
			if err != nil {
				bad("%s_file: %v", where, err)
			}
			return strings.TrimSpace(string(b))
		case required:
			bad("%s: set %s_env or %s_file", where, where, where)
		}
		return ""
	}
	if j := f.Tickets.Jira; j != nil {
		user := j.User
		if j.UserEnv != "" {
			if user != "" {
				bad("tickets.jira: give user or user_env, not both")
			}
			user, _ = lookupEnv(j.UserEnv)
		}
		cfg.Jira = &respond.JiraConfig{BaseURL: j.BaseURL, User: user, Token: secret("tickets.jira.token", j.TokenEnv, j.TokenFile, true)}
		if j.BaseURL == "" {
			bad("tickets.jira.base_url: missing")
		}
	}
	if w := f.Tickets.Webhook; w != nil {
		cfg.Webhook = &respond.WebhookTicketConfig{URL: w.URL}
		if tok := secret("tickets.webhook.token", w.TokenEnv, w.TokenFile, false); tok != "" {
			cfg.Webhook.Header = http.Header{"Authorization": {"Bearer " + tok}}
		}
		if w.URL == "" {
			bad("tickets.webhook.url: missing")
		}
	}
	if a := f.Cloud.AWS; a != nil {
		if a.MaxAttempts < 0 {
			bad("cloud.aws.max_attempts: must not be negative")
		}
		cfg.AWS = &cloud.AWSOptions{Region: a.Region, Endpoint: a.Endpoint, EC2Endpoint: a.EC2Endpoint, S3Endpoint: a.S3Endpoint,
			IAMEndpoint: a.IAMEndpoint, MaxAttempts: a.MaxAttempts}
	}
	if a := f.Cloud.Alibaba; a != nil {
		cfg.Alibaba = &cloud.AlibabaOptions{RegionID: a.RegionID, ECSEndpoint: a.ECSEndpoint, RAMEndpoint: a.RAMEndpoint}
	}
	return cfg, errors.Join(errs...)
}

// ticketClient returns the outbound client of the ticket actions and
// checks that their URLs pass it: the respond config's outbound guard,
// else the notification config's.
func ticketClient(cfg respondConfig, ncfg *notify.Config) (*notify.Client, error) {
	if cfg.Jira == nil && cfg.Webhook == nil {
		return nil, nil
	}
	var opts notify.ClientOptions
	switch {
	case cfg.Outbound != nil:
		opts = *cfg.Outbound
	case ncfg != nil:
		opts = ncfg.Outbound
	default:
		return nil, errors.New("respond config: tickets need an outbound allow-list: set outbound.allow_hosts (or give --notify)")
	}
	c, err := notify.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("respond config: outbound: %w", err)
	}
	for _, raw := range []string{jiraURL(cfg), webhookURL(cfg)} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, errors.New("respond config: tickets: a URL does not parse")
		}
		if err := c.CheckURL(u); err != nil {
			return nil, fmt.Errorf("respond config: tickets: %w", err)
		}
	}
	return c, nil
}

func jiraURL(cfg respondConfig) string {
	if cfg.Jira == nil {
		return ""
	}
	return cfg.Jira.BaseURL
}

func webhookURL(cfg respondConfig) string {
	if cfg.Webhook == nil {
		return ""
	}
	return cfg.Webhook.URL
}

// readRespondConfig loads --respond-config with the process's environment
// and files.
func readRespondConfig(path string) (respondConfig, error) {
	return loadRespondConfig(path, os.LookupEnv, os.ReadFile)
}
