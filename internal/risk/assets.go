package risk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// AssetContext maps resources to criticality tiers. It is loaded from a
// user-editable YAML file with [LoadAssetContext]:
//
//	assets:
//	  - tier: crown-jewel           # crown-jewel, high, medium or low
//	    name: payments data          # optional, shown in explanations
//	    uid: ["arn:aws:s3:::payments-*", "*:instance/i-0abc*"]
//	  - tier: high
//	    tags: {env: prod}            # every listed tag must match
//	  - tier: low
//	    labels: ["sandbox"]          # any listed label matches
//
// A rule matches a resource when every selector it sets matches: uid (any
// pattern matches the resource's uid or uid_alt), tags (every name is
// present with a matching value) and labels (any pattern matches one of the
// resource's labels). Patterns are exact strings in which '*' matches any
// run of characters, '/' and ':' included; uid and label matching ignores
// case, tag names are exact. When several rules match, the highest tier
// wins, so the order of rules does not matter. The zero AssetContext matches
// nothing. An AssetContext is read-only once loaded and safe for concurrent
// use.
type AssetContext struct {
	rules []AssetRule
}

// AssetRule is one rule of an [AssetContext] file.
type AssetRule struct {
	// Name labels the rule in explanations; default "rule N".
	Name string `yaml:"name"`
	// Tier is the tier the rule assigns; required.
	Tier Tier `yaml:"tier"`
	// UID lists resource-uid patterns; any may match.
	UID []string `yaml:"uid"`
	// Tags maps tag names to value patterns; all must match.
	Tags map[string]string `yaml:"tags"`
	// Labels lists label patterns; any may match.
	Labels []string `yaml:"labels"`
}

type assetFile struct {
	Assets []AssetRule `yaml:"assets"`
}

// LoadAssetContext reads an asset context file from r. Decoding is strict:
// an unknown key is an error naming the key and its line; a rule without a
// valid tier or without any selector is an error naming the rule.
func LoadAssetContext(r io.Reader) (AssetContext, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return AssetContext{}, fmt.Errorf("risk: asset context: %w", err)
	}
	var f assetFile
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &f); err != nil {
			return AssetContext{}, fmt.Errorf("risk: asset context: %w", err)
		}
	}
	return NewAssetContext(f.Assets...)
}

// NewAssetContext returns an AssetContext of rules, checked as
// [LoadAssetContext] checks a file's rules.
func NewAssetContext(rules ...AssetRule) (AssetContext, error) {
	var errs []error
	out := make([]AssetRule, len(rules))
	for i, r := range rules {
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule %d", i+1)
		}
		if !r.Tier.valid() {
			errs = append(errs, fmt.Errorf("risk: asset context: assets[%d] (%s): tier: %q is not crown-jewel, high, medium or low", i, r.Name, r.Tier))
		}
		if len(r.UID) == 0 && len(r.Tags) == 0 && len(r.Labels) == 0 {
			errs = append(errs, fmt.Errorf("risk: asset context: assets[%d] (%s): needs at least one of uid, tags, labels", i, r.Name))
		}
		out[i] = r
	}
	if err := errors.Join(errs...); err != nil {
		return AssetContext{}, err
	}
	return AssetContext{rules: out}, nil
}

// Tier returns the highest tier of the rules matching res and the name of
// the rule that set it; [TierUnknown] and "" when none matches.
func (c AssetContext) Tier(res ocsf.ResourceDetails) (Tier, string) {
	best, name := TierUnknown, ""
	for _, r := range c.rules {
		if r.Tier.rank() > best.rank() && r.matches(res) {
			best, name = r.Tier, r.Name
		}
	}
	return best, name
}

func (r AssetRule) matches(res ocsf.ResourceDetails) bool {
	if len(r.UID) > 0 && !anyMatch(r.UID, true, res.UID, res.UIDAlt) {
		return false
	}
	for name, pat := range r.Tags {
		found := false
		for _, t := range res.Tags {
			if t.Name == name && (glob(pat, t.Value, false) || anyMatch([]string{pat}, false, t.Values...)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(r.Labels) > 0 && !anyMatch(r.Labels, true, res.Labels...) {
		return false
	}
	return true
}

// anyMatch reports whether any pattern matches any non-empty value.
func anyMatch(pats []string, fold bool, vals ...string) bool {
	for _, v := range vals {
		if v == "" {
			continue
		}
		for _, p := range pats {
			if glob(p, v, fold) {
				return true
			}
		}
	}
	return false
}

// glob matches s against pattern p, in which '*' matches any run of
// characters (including none) and every other character matches itself.
func glob(p, s string, fold bool) bool {
	if fold {
		p, s = strings.ToLower(p), strings.ToLower(s)
	}
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
