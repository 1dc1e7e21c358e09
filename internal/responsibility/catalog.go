package responsibility

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Resource categories of the catalogue.
var categories = []string{
	"compute", "container_image", "container", "workload", "cluster", "serverless", "database", "storage",
	"network", "identity", "account", "logging", "key_management", "application", "code", "iac", "saas_app",
}

// Catalogue providers that are not one cloud: their types apply whatever
// the record's cloud.
var neutralProviders = map[string]bool{"generic": true, "kubernetes": true, "saas": true}

// ResourceType is what the catalogue knows of a resource type.
type ResourceType struct {
	// Name is the catalogue's spelling of the type that matched
	// ("AWS::EC2::Instance" for "AwsEc2Instance"), the prefix that matched
	// followed by "*" ("AWS::IAM::*"), or "" when the uid matched.
	Name string
	// Provider is aws, alibaba, gcp, azure, kubernetes, saas or generic.
	Provider string
	// Model is the type's service model; "" for types not tied to one
	// (identities, accounts, source code).
	Model ServiceModel
	// Category is what kind of thing it is (compute, database, identity …).
	Category string
	// Area is the default responsibility area of a finding about it.
	Area string
}

type typeEntry struct {
	ResourceType // Name: the entry's first spelling
	names        []string
	uids         []*regexp.Regexp
}

// nameRef is one spelling of a type in the catalogue.
type nameRef struct {
	spelling string
	entry    *typeEntry
}

// Catalog maps resource type strings to [ResourceType]s. It is immutable
// and safe for concurrent use.
type Catalog struct {
	entries  []*typeEntry
	byName   map[string][]nameRef // normalized name → spellings (one per provider)
	prefixes []catalogPrefix      // longest first
}

type catalogPrefix struct {
	key      string
	spelling string
	entry    *typeEntry
}

type catalogFile struct {
	SchemaVersion int             `yaml:"schema_version"`
	Types         []typeEntryFile `yaml:"types"`
}

type typeEntryFile struct {
	Names    []string `yaml:"names"`
	Prefixes []string `yaml:"prefixes"`
	UIDs     []string `yaml:"uids"`
	Provider string   `yaml:"provider"`
	Model    string   `yaml:"model"`
	Category string   `yaml:"category"`
	Area     string   `yaml:"area"`
	Note     string   `yaml:"note"`
}

// ParseCatalog reads a resource-type catalogue in the format of
// data/resource-types.yaml from r; name is the file name used in errors.
// Decoding is strict; a name listed twice for one provider, an unknown
// model or category, or a uid pattern that does not compile is an error.
// Area ids are checked against the matrix by [New].
func ParseCatalog(name string, r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("responsibility: %s: %w", name, err)
	}
	var f catalogFile
	d, err := decodeYAML(name, data, &f, func(d *yamlDoc, line int) string {
		if i := d.enclosing("$.types", line); i >= 0 {
			return catalogWhere(d, i)
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	c := &Catalog{byName: map[string][]nameRef{}}
	for i, tf := range f.Types {
		path := fmt.Sprintf("$.types[%d]", i)
		where := catalogWhere(d, i)
		e := &typeEntry{ResourceType: ResourceType{Provider: tf.Provider, Model: ServiceModel(tf.Model), Category: tf.Category, Area: tf.Area}}
		switch {
		case len(tf.Names) > 0:
			e.Name = tf.Names[0]
		case len(tf.Prefixes) > 0:
			e.Name = tf.Prefixes[0]
		default:
			d.add(path, where, "names", "missing: an entry needs names or prefixes")
		}
		if tf.Provider == "" {
			d.add(path, where, "provider", "missing")
		}
		if tf.Model != "" && !validModel(tf.Model) {
			d.add(path+".model", where, "model", "%q: want IaaS, PaaS or SaaS, or no model", tf.Model)
		}
		if !slices.Contains(categories, tf.Category) {
			d.add(path+".category", where, "category", "%q: want one of %s", tf.Category, strings.Join(categories, ", "))
		}
		if tf.Area == "" {
			d.add(path, where, "area", "missing")
		}
		for j, n := range tf.Names {
			key := typeKeys(n)[0]
			if key == "" {
				d.add(fmt.Sprintf("%s.names[%d]", path, j), where, fmt.Sprintf("names[%d]", j), "%q: no letters or digits", n)
				continue
			}
			if i := slices.IndexFunc(c.byName[key], func(o nameRef) bool { return o.entry.Provider == e.Provider }); i >= 0 {
				d.add(fmt.Sprintf("%s.names[%d]", path, j), where, fmt.Sprintf("names[%d]", j), "%q: the same type as %q for provider %s (spellings that differ only in case and punctuation match anyway)", n, c.byName[key][i].spelling, e.Provider)
				continue
			}
			e.names = append(e.names, key)
			c.byName[key] = append(c.byName[key], nameRef{n, e})
		}
		for j, p := range tf.Prefixes {
			key := normKey(p)
			if key == "" {
				d.add(fmt.Sprintf("%s.prefixes[%d]", path, j), where, fmt.Sprintf("prefixes[%d]", j), "%q: no letters or digits", p)
				continue
			}
			c.prefixes = append(c.prefixes, catalogPrefix{key, p, e})
		}
		for j, u := range tf.UIDs {
			re, err := regexp.Compile("(?i)" + u)
			if err != nil {
				d.add(fmt.Sprintf("%s.uids[%d]", path, j), where, fmt.Sprintf("uids[%d]", j), "%v", err)
				continue
			}
			e.uids = append(e.uids, re)
		}
		c.entries = append(c.entries, e)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(c.prefixes, func(a, b catalogPrefix) int { return cmp.Compare(len(b.key), len(a.key)) })
	return c, nil
}

func catalogWhere(d *yamlDoc, i int) string {
	for _, k := range []string{"names", "prefixes"} {
		if n := d.scalar(fmt.Sprintf("$.types[%d].%s[0]", i, k)); n != "" {
			return "type " + n
		}
	}
	return fmt.Sprintf("types[%d]", i)
}

// Types returns every catalogue entry, in file order.
func (c *Catalog) Types() []ResourceType {
	out := make([]ResourceType, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.ResourceType
	}
	return out
}

// Lookup returns the catalogue entry of a resource type string. provider is
// the record's cloud (any spelling: "AWS", "Alibaba Cloud", "alicloud",
// "gcp" …; "" when unknown): an entry of another cloud never matches, and
// an entry of the record's own cloud wins over a neutral one (generic,
// kubernetes, saas). Matching ignores letter case and punctuation, so the
// CloudFormation, ASFF and Config spellings of a type are one; Kubernetes
// kinds also match as "<group>/<Kind>", in the plural and after a
// "Kubernetes " prefix; when no name matches, the longest matching prefix
// decides.
func (c *Catalog) Lookup(typ, provider string) (ResourceType, bool) {
	p := NormalizeProvider(provider)
	keys := typeKeys(typ)
	if len(keys) == 0 || keys[0] == "" {
		return ResourceType{}, false
	}
	for _, k := range keys {
		if ref, ok := pick(c.byName[k], p); ok {
			rt := ref.entry.ResourceType
			rt.Name = ref.spelling
			return rt, true
		}
	}
	var found *catalogPrefix
	for i, pr := range c.prefixes {
		if found != nil && len(pr.key) < len(found.key) {
			break
		}
		if strings.HasPrefix(keys[0], pr.key) && applies(pr.entry, p) {
			if found == nil || (pr.entry.Provider == p && found.entry.Provider != p) {
				found = &c.prefixes[i]
			}
		}
	}
	if found != nil {
		rt := found.entry.ResourceType
		rt.Name = strings.TrimRight(found.spelling, "*") + "*"
		return rt, true
	}
	return ResourceType{}, false
}

// LookupUID returns the catalogue entry whose uid patterns match a resource
// uid (an ARN, a GCP full resource name, an Azure resource id, an Alibaba
// Cloud ARN), for resources reported without a type. The first matching
// entry in file order wins; provider filters as in [Catalog.Lookup].
func (c *Catalog) LookupUID(uid, provider string) (ResourceType, bool) {
	if uid == "" {
		return ResourceType{}, false
	}
	p := NormalizeProvider(provider)
	for _, e := range c.entries {
		if !applies(e, p) {
			continue
		}
		for _, re := range e.uids {
			if re.MatchString(uid) {
				rt := e.ResourceType
				rt.Name = ""
				return rt, true
			}
		}
	}
	return ResourceType{}, false
}

func applies(e *typeEntry, provider string) bool {
	return provider == "" || e.Provider == provider || neutralProviders[e.Provider]
}

func pick(refs []nameRef, provider string) (nameRef, bool) {
	var neutral, other *nameRef
	for i, r := range refs {
		switch {
		case provider != "" && r.entry.Provider == provider:
			return r, true
		case neutralProviders[r.entry.Provider]:
			if neutral == nil {
				neutral = &refs[i]
			}
		case provider == "":
			if other == nil {
				other = &refs[i]
			}
		}
	}
	if neutral != nil {
		return *neutral, true
	}
	if other != nil {
		return *other, true
	}
	return nameRef{}, false
}

// describe names a resource type for a basis: its catalogue spelling, or
// for a uid match what kind of resource it is.
func (rt ResourceType) describe() string {
	if rt.Name != "" {
		return rt.Name
	}
	p := providerNames[rt.Provider]
	if p == "" {
		p = rt.Provider
	}
	return p + " " + strings.ReplaceAll(rt.Category, "_", " ") + " resource"
}

// normKey keeps the letters and digits of s, in lower case.
func normKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var k8sGroup = regexp.MustCompile(`^(|v1|core|apps|batch|policy|autoscaling|extensions|networking|rbac|storage|admissionregistration|certificates|coordination|discovery|events|apiextensions|scheduling|node|flowcontrol|[a-z0-9.-]*\.k8s\.io|[a-z0-9.-]*\.x-k8s\.io)$`)

// typeKeys returns the lookup keys of a type string, most specific first:
// the normalized string, then its singular forms.
func typeKeys(typ string) []string {
	s := strings.TrimSpace(typ)
	lower := strings.ToLower(s)
	for _, p := range []string{"kubernetes ", "k8s "} {
		if strings.HasPrefix(lower, p) {
			s = s[len(p):]
			lower = lower[len(p):]
		}
	}
	if strings.Count(s, "/") == 1 {
		group, kind, _ := strings.Cut(s, "/")
		if k8sGroup.MatchString(strings.ToLower(group)) && kind != "" {
			s = kind
		}
	}
	key := normKey(s)
	keys := []string{key}
	switch {
	case strings.HasSuffix(key, "ies") && len(key) > 4:
		keys = append(keys, key[:len(key)-3]+"y")
	case strings.HasSuffix(key, "sses") || strings.HasSuffix(key, "xes"):
		keys = append(keys, key[:len(key)-2])
	case strings.HasSuffix(key, "s") && !strings.HasSuffix(key, "ss") && len(key) > 3:
		keys = append(keys, key[:len(key)-1])
	}
	return keys
}

// NormalizeProvider returns the catalogue's name of a cloud provider given
// in any common spelling: "AWS", "Amazon Web Services" → aws; "Alibaba
// Cloud", "alicloud", "aliyun" → alibaba; "GCP", "Google Cloud" → gcp;
// "Azure", "Microsoft Azure" → azure; "k8s" → kubernetes. Other names are
// returned lower-cased without spaces; "" stays "".
func NormalizeProvider(s string) string {
	k := normKey(s)
	switch k {
	case "aws", "amazon", "amazonwebservices", "awscloud":
		return "aws"
	case "alibaba", "alibabacloud", "alicloud", "aliyun", "alibabacloudaliyun":
		return "alibaba"
	case "gcp", "google", "googlecloud", "googlecloudplatform":
		return "gcp"
	case "azure", "microsoftazure", "microsoft":
		return "azure"
	case "kubernetes", "k8s":
		return "kubernetes"
	}
	return k
}

// providerNames are display names of the catalogue's providers.
var providerNames = map[string]string{"aws": "AWS", "alibaba": "Alibaba Cloud", "gcp": "GCP", "azure": "Azure"}
