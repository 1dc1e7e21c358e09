package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// LoadOptions gives the loader access to the secrets a configuration
// refers to. The package never reads the environment or files on its own:
// cmd/canopy passes os.LookupEnv and os.ReadFile.
type LoadOptions struct {
	// LookupEnv reads an environment variable, for the *_env keys.
	LookupEnv func(string) (string, bool)
	// ReadFile reads a file, for the *_file keys.
	ReadFile func(string) ([]byte, error)
}

// Config is a loaded notification configuration. Its channel settings hold
// their credentials as [Secret] values, so printing, logging or marshalling
// a Config never shows them.
type Config struct {
	// Outbound is the outbound guard (allow-list, address policy, limits).
	Outbound ClientOptions `json:"outbound"`
	// Delivery is the retry policy; hooks, clock and logger are left for
	// the caller to set.
	Delivery DeliveryOptions `json:"delivery"`
	// Policy holds the deadlines and the parties.
	Policy Policy `json:"policy"`
	// Channels are the configured channels, by name order.
	Channels []ChannelSpec `json:"channels"`
}

// ChannelSpec is one configured channel.
type ChannelSpec struct {
	// Name is the key under channels:.
	Name string `json:"name"`
	// Kind is the type: webhook, dingtalk, wecom, feishu, slack or email.
	Kind string `json:"kind"`
	// Config is the kind's settings: a WebhookConfig, DingTalkConfig,
	// WeComConfig, FeishuConfig, SlackConfig or EmailConfig.
	Config any `json:"config"`
}

// channelKind decodes and builds one channel type.
type channelKind struct {
	// load decodes the YAML node strictly into the kind's settings.
	load func(node ast.Node, r *secretResolver, where string) (any, error)
	// build makes the channel.
	build func(name string, cfg any, c *Client) (Channel, error)
}

// channelKinds is the registry of channel types. Adding a channel type is
// one file plus one entry here. Read-only.
var channelKinds = map[string]channelKind{
	"webhook":  kind(loadWebhook, NewWebhook),
	"dingtalk": kind(loadDingTalk, NewDingTalk),
	"wecom":    kind(loadWeCom, NewWeCom),
	"feishu":   kind(loadFeishu, NewFeishu),
	"slack":    kind(loadSlack, NewSlack),
	"email":    kind(loadEmail, NewEmail),
}

// kind adapts a typed loader and constructor to the registry.
func kind[Y any, C any, Ch Channel](conv func(Y, *secretResolver, string) (C, error), build func(string, C, *Client) (Ch, error)) channelKind {
	return channelKind{
		load: func(node ast.Node, r *secretResolver, where string) (any, error) {
			var y Y
			if err := yaml.NodeToValue(node, &y, yaml.Strict()); err != nil {
				return nil, fmt.Errorf("%s: %s", where, yaml.FormatError(err, false, false))
			}
			return conv(y, r, where)
		},
		build: func(name string, cfg any, c *Client) (Channel, error) {
			typed, ok := cfg.(C)
			if !ok {
				return nil, fmt.Errorf("notify: channel %q: settings of type %T", name, cfg)
			}
			return build(name, typed, c)
		},
	}
}

// ChannelKinds lists the channel types a configuration may use.
func ChannelKinds() []string { return slices.Sorted(maps.Keys(channelKinds)) }

// secretResolver turns value / *_env / *_file triples into Secrets.
type secretResolver struct{ opts LoadOptions }

func (r *secretResolver) resolve(where, key, literal, env, file string, required bool) (Secret, error) {
	set := 0
	for _, v := range []string{literal, env, file} {
		if v != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return Secret{}, fmt.Errorf("%s: set only one of %s, %s_env and %s_file", where, key, key, key)
	case set == 0 && required:
		return Secret{}, fmt.Errorf("%s: %s is required (or %s_env, %s_file)", where, key, key, key)
	case literal != "":
		return NewSecret(literal), nil
	case env != "":
		if r.opts.LookupEnv == nil {
			return Secret{}, fmt.Errorf("%s: %s_env: no environment given to the loader", where, key)
		}
		v, ok := r.opts.LookupEnv(env)
		if !ok || strings.TrimSpace(v) == "" {
			return Secret{}, fmt.Errorf("%s: %s_env: environment variable %s is not set or empty", where, key, env)
		}
		return NewSecret(strings.TrimSpace(v)), nil
	case file != "":
		if r.opts.ReadFile == nil {
			return Secret{}, fmt.Errorf("%s: %s_file: no file reader given to the loader", where, key)
		}
		data, err := r.opts.ReadFile(file)
		if err != nil {
			return Secret{}, fmt.Errorf("%s: %s_file: %w", where, key, err)
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return Secret{}, fmt.Errorf("%s: %s_file: %s is empty", where, key, file)
		}
		return NewSecret(v), nil
	}
	return Secret{}, nil
}

type webhookYAML struct {
	Type       string `yaml:"type"`
	URL        string `yaml:"url"`
	URLEnv     string `yaml:"url_env"`
	URLFile    string `yaml:"url_file"`
	Secret     string `yaml:"secret"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

func loadWebhook(y webhookYAML, r *secretResolver, where string) (WebhookConfig, error) {
	u, err1 := r.resolve(where, "url", y.URL, y.URLEnv, y.URLFile, true)
	s, err2 := r.resolve(where, "secret", y.Secret, y.SecretEnv, y.SecretFile, true)
	return WebhookConfig{URL: u, Secret: s}, errors.Join(err1, err2)
}

type dingTalkYAML webhookYAML

func loadDingTalk(y dingTalkYAML, r *secretResolver, where string) (DingTalkConfig, error) {
	u, err1 := r.resolve(where, "url", y.URL, y.URLEnv, y.URLFile, true)
	s, err2 := r.resolve(where, "secret", y.Secret, y.SecretEnv, y.SecretFile, false)
	return DingTalkConfig{URL: u, Secret: s}, errors.Join(err1, err2)
}

type urlOnlyYAML struct {
	Type    string `yaml:"type"`
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"url_env"`
	URLFile string `yaml:"url_file"`
}

func loadWeCom(y urlOnlyYAML, r *secretResolver, where string) (WeComConfig, error) {
	u, err := r.resolve(where, "url", y.URL, y.URLEnv, y.URLFile, true)
	return WeComConfig{URL: u}, err
}

func loadSlack(y urlOnlyYAML, r *secretResolver, where string) (SlackConfig, error) {
	u, err := r.resolve(where, "url", y.URL, y.URLEnv, y.URLFile, true)
	return SlackConfig{URL: u}, err
}

type feishuYAML struct {
	Type       string `yaml:"type"`
	URL        string `yaml:"url"`
	URLEnv     string `yaml:"url_env"`
	URLFile    string `yaml:"url_file"`
	Secret     string `yaml:"secret"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	Format     string `yaml:"format"`
}

func loadFeishu(y feishuYAML, r *secretResolver, where string) (FeishuConfig, error) {
	u, err1 := r.resolve(where, "url", y.URL, y.URLEnv, y.URLFile, true)
	s, err2 := r.resolve(where, "secret", y.Secret, y.SecretEnv, y.SecretFile, false)
	return FeishuConfig{URL: u, Secret: s, Format: y.Format}, errors.Join(err1, err2)
}

type emailYAML struct {
	Type         string   `yaml:"type"`
	Host         string   `yaml:"host"`
	Port         int      `yaml:"port"`
	Username     string   `yaml:"username"`
	Password     string   `yaml:"password"`
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	TLS          string   `yaml:"tls"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	HelloName    string   `yaml:"hello_name"`
}

func loadEmail(y emailYAML, r *secretResolver, where string) (EmailConfig, error) {
	p, err := r.resolve(where, "password", y.Password, y.PasswordEnv, y.PasswordFile, false)
	return EmailConfig{
		Host: y.Host, Port: y.Port, Username: y.Username, Password: p, TLS: EmailTLS(y.TLS),
		From: y.From, To: y.To, HelloName: y.HelloName,
	}, err
}

type fileConfig struct {
	Outbound  outboundYAML        `yaml:"outbound"`
	Delivery  deliveryYAML        `yaml:"delivery"`
	Deadlines map[string]string   `yaml:"deadlines"`
	Channels  map[string]ast.Node `yaml:"channels"`
	Parties   []partyYAML         `yaml:"parties"`
}

type outboundYAML struct {
	AllowHosts        []string      `yaml:"allow_hosts"`
	AllowPrivate      bool          `yaml:"allow_private"`
	AllowLoopback     bool          `yaml:"allow_loopback"`
	AllowInsecureHTTP bool          `yaml:"allow_insecure_http"`
	Timeout           time.Duration `yaml:"timeout"`
	MaxResponseBytes  int64         `yaml:"max_response_bytes"`
}

type deliveryYAML struct {
	MaxAttempts int           `yaml:"max_attempts"`
	BaseDelay   time.Duration `yaml:"base_delay"`
	MaxDelay    time.Duration `yaml:"max_delay"`
}

type partyYAML struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Kind       string            `yaml:"kind"`
	Deadlines  map[string]string `yaml:"deadlines"`
	Escalation []contactYAML     `yaml:"escalation"`
}

type contactYAML struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Channels []string `yaml:"channels"`
	Email    []string `yaml:"email"`
}

// LoadConfig reads a notification configuration (see README.md for the
// format) from r. Decoding is strict: an unknown or duplicate key, or a
// value of the wrong type, is an error with its line and column. Secrets
// are resolved through opts; an error names the key and the variable or
// file, never a secret's value. The result is validated: every contact's
// channels exist, every channel's host is in outbound.allow_hosts, every
// party has a valid kind and a non-empty chain.
func LoadConfig(r io.Reader, opts LoadOptions) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("notify: config: %w", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict())
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("notify: config: %s", yaml.FormatError(err, false, false))
	}
	cfg := &Config{
		Outbound: ClientOptions{
			AllowHosts: fc.Outbound.AllowHosts, AllowPrivate: fc.Outbound.AllowPrivate,
			AllowLoopback: fc.Outbound.AllowLoopback, AllowInsecureHTTP: fc.Outbound.AllowInsecureHTTP,
			Timeout: fc.Outbound.Timeout, MaxResponseBytes: fc.Outbound.MaxResponseBytes,
		},
		Delivery: DeliveryOptions{
			MaxAttempts: fc.Delivery.MaxAttempts, BaseDelay: fc.Delivery.BaseDelay, MaxDelay: fc.Delivery.MaxDelay,
		},
		Policy: Policy{Deadlines: DefaultDeadlines(), Parties: map[string]Party{}},
	}
	var errs []error
	if fc.Outbound.Timeout < 0 || fc.Outbound.MaxResponseBytes < 0 || fc.Delivery.MaxAttempts < 0 ||
		fc.Delivery.BaseDelay < 0 || fc.Delivery.MaxDelay < 0 {
		errs = append(errs, errors.New("notify: config: outbound and delivery values must not be negative"))
	}
	if err := parseDeadlines("deadlines", fc.Deadlines, cfg.Policy.Deadlines); err != nil {
		errs = append(errs, err)
	}
	res := &secretResolver{opts: opts}
	for _, name := range slices.Sorted(maps.Keys(fc.Channels)) {
		spec, err := loadChannel(name, fc.Channels[name], res)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfg.Channels = append(cfg.Channels, spec)
	}
	for i, py := range fc.Parties {
		where := fmt.Sprintf("notify: config: parties[%d] (%q)", i, py.ID)
		if py.ID == "" {
			errs = append(errs, fmt.Errorf("%s: id is required", where))
			continue
		}
		if _, dup := cfg.Policy.Parties[py.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate party id", where))
			continue
		}
		p := Party{ID: py.ID, Name: py.Name, Kind: PartyKind(py.Kind)}
		if len(py.Deadlines) > 0 {
			p.Deadlines = map[Severity]time.Duration{}
			if err := parseDeadlines(where+": deadlines", py.Deadlines, p.Deadlines); err != nil {
				errs = append(errs, err)
			}
		}
		for _, c := range py.Escalation {
			p.Chain = append(p.Chain, Contact{ID: c.ID, Name: c.Name, Channels: c.Channels, Email: c.Email})
			if _, err := parseAddresses(c.Email); err != nil {
				errs = append(errs, fmt.Errorf("%s: contact %q: email: %w", where, c.ID, err))
			}
		}
		cfg.Policy.Parties[py.ID] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadChannel decodes one channels: entry.
func loadChannel(name string, node ast.Node, r *secretResolver) (ChannelSpec, error) {
	where := fmt.Sprintf("notify: config: channels.%s", name)
	if node == nil {
		return ChannelSpec{}, fmt.Errorf("%s: empty", where)
	}
	var head map[string]any
	if err := yaml.NodeToValue(node, &head); err != nil {
		return ChannelSpec{}, fmt.Errorf("%s: %s", where, yaml.FormatError(err, false, false))
	}
	t, _ := head["type"].(string)
	k, ok := channelKinds[t]
	if !ok {
		return ChannelSpec{}, fmt.Errorf("%s: type %q: want one of %s", where, t, strings.Join(ChannelKinds(), ", "))
	}
	cfg, err := k.load(node, r, where)
	if err != nil {
		return ChannelSpec{}, err
	}
	return ChannelSpec{Name: name, Kind: t, Config: cfg}, nil
}

// parseDeadlines reads severity: duration pairs into out; "none" or 0
// means no deadline.
func parseDeadlines(where string, in map[string]string, out map[Severity]time.Duration) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(in)) {
		sev, err := ParseSeverity(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		v := strings.TrimSpace(in[k])
		if v == "none" || v == "0" || v == "" {
			out[sev] = 0
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %s: %q is not a duration (e.g. 15m, 8h) or none", where, k, v))
			continue
		}
		out[sev] = d
	}
	return errors.Join(errs...)
}

// Validate checks the configuration as a whole: the policy (against the
// configured channel names) and every channel's host against the
// allow-list, by building a client and the channels.
func (c *Config) Validate() error {
	names := map[string]Channel{}
	for _, s := range c.Channels {
		names[s.Name] = nil
	}
	err := c.Policy.Validate(names)
	if _, cerr := c.NewChannels(nil); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// NewChannels builds the configured channels on client; a nil client is
// built from c.Outbound.
func (c *Config) NewChannels(client *Client) (map[string]Channel, error) {
	if client == nil {
		var err error
		if client, err = NewClient(c.Outbound); err != nil {
			return nil, err
		}
	}
	out := map[string]Channel{}
	var errs []error
	for _, s := range c.Channels {
		k, ok := channelKinds[s.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("notify: channel %q: unknown type %q", s.Name, s.Kind))
			continue
		}
		ch, err := k.build(s.Name, s.Config, client)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[s.Name] = ch
	}
	return out, errors.Join(errs...)
}

// NewEscalator builds the client, the channels and an [Escalator] over
// store from the configuration. opts supplies what a file cannot: the
// store, the hooks, the clock and the logger; its Delivery fields left
// zero take the configuration's values. opts.Store, opts.Policy and
// opts.Channels are overwritten.
func (c *Config) NewEscalator(store Store, opts Options, delivery DeliveryOptions) (*Escalator, error) {
	client, err := NewClient(c.Outbound)
	if err != nil {
		return nil, err
	}
	chans, err := c.NewChannels(client)
	if err != nil {
		return nil, err
	}
	if delivery.MaxAttempts == 0 {
		delivery.MaxAttempts = c.Delivery.MaxAttempts
	}
	if delivery.BaseDelay == 0 {
		delivery.BaseDelay = c.Delivery.BaseDelay
	}
	if delivery.MaxDelay == 0 {
		delivery.MaxDelay = c.Delivery.MaxDelay
	}
	if delivery.Logger == nil {
		delivery.Logger = opts.Logger
	}
	policy := c.Policy
	opts.Store = store
	opts.Policy = &policy
	opts.Channels = chans
	opts.Deliverer = NewDeliverer(delivery)
	return NewEscalator(opts)
}
