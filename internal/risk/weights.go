package risk

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/goccy/go-yaml"
)

//go:embed default-weights.yaml
var defaultWeightsYAML []byte

// Weights are the points each factor adds to the score at full strength,
// plus the two parameters that shape the recency and kill-chain signals.
// They are loaded from a YAML file with [LoadWeights]; default-weights.yaml
// (returned by [DefaultWeights]) documents every default and why.
//
// The zero Weights scores everything 0 and fails [Weights.Validate]; start
// from [DefaultWeights].
type Weights struct {
	// Severity weights the normalized OCSF severity. Default 15.
	Severity float64 `yaml:"severity"`
	// CVSS weights the highest CVSS base score. Default 10.
	CVSS float64 `yaml:"cvss"`
	// ExploitKnown weights a known exploit or KEV listing. Default 15.
	ExploitKnown float64 `yaml:"exploit_known"`
	// EPSS weights the EPSS probability. Default 10.
	EPSS float64 `yaml:"epss"`
	// InternetExposure weights internet reachability. Default 15.
	InternetExposure float64 `yaml:"internet_exposure"`
	// AssetCriticality weights the asset tier. Default 10.
	AssetCriticality float64 `yaml:"asset_criticality"`
	// DataGrade weights the data grade. Default 5.
	DataGrade float64 `yaml:"data_grade"`
	// PrivilegedIdentity weights a root or admin identity. Default 8.
	PrivilegedIdentity float64 `yaml:"privileged_identity"`
	// KillChainBreadth weights the number of tactics. Default 7.
	KillChainBreadth float64 `yaml:"kill_chain_breadth"`
	// Recency weights how recently the issue was seen. Default 5.
	Recency float64 `yaml:"recency"`
	// RecencyHalfLife is the age at which the recency signal halves.
	// Default 720h (30 days); must be positive.
	RecencyHalfLife time.Duration `yaml:"recency_half_life"`
	// KillChainFull is the number of distinct tactics at which kill-chain
	// breadth reaches full strength. Default 5; must be at least 2.
	KillChainFull int `yaml:"kill_chain_full"`
}

// DefaultWeights returns the weights of the embedded default-weights.yaml.
// It parses the embedded file on every call.
func DefaultWeights() Weights {
	var w Weights
	if err := decodeStrict(defaultWeightsYAML, &w); err != nil {
		panic("risk: embedded default-weights.yaml: " + err.Error())
	}
	if err := w.Validate(); err != nil {
		panic("risk: embedded default-weights.yaml: " + err.Error())
	}
	return w
}

// LoadWeights reads a weights YAML file from r. Keys the file omits keep
// their defaults from [DefaultWeights]. Decoding is strict: an unknown key
// (a misspelt factor), a duplicate key or a value of the wrong type is an
// error naming the key and its line; the result is then checked with
// [Weights.Validate].
func LoadWeights(r io.Reader) (Weights, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Weights{}, fmt.Errorf("risk: weights: %w", err)
	}
	w := DefaultWeights()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &w); err != nil {
			return Weights{}, fmt.Errorf("risk: weights: %w", err)
		}
	}
	if err := w.Validate(); err != nil {
		return Weights{}, err
	}
	return w, nil
}

// Validate reports every problem with w, naming the YAML key: weights must
// be finite and non-negative and at least one must be positive,
// recency_half_life must be positive and kill_chain_full at least 2.
func (w Weights) Validate() error {
	var errs []error
	sum := 0.0
	for _, f := range w.factors() {
		if math.IsNaN(f.w) || math.IsInf(f.w, 0) || f.w < 0 {
			errs = append(errs, fmt.Errorf("risk: weights: %s: must be a non-negative number, got %v", f.key, f.w))
			continue
		}
		sum += f.w
	}
	if len(errs) == 0 && sum == 0 {
		errs = append(errs, errors.New("risk: weights: all weights are 0; at least one must be positive"))
	}
	if w.RecencyHalfLife <= 0 {
		errs = append(errs, fmt.Errorf("risk: weights: recency_half_life: must be positive, got %v", w.RecencyHalfLife))
	}
	if w.KillChainFull < 2 {
		errs = append(errs, fmt.Errorf("risk: weights: kill_chain_full: must be at least 2, got %d", w.KillChainFull))
	}
	return errors.Join(errs...)
}

type namedWeight struct {
	key string
	w   float64
}

// factors lists the weights in the fixed factor order.
func (w Weights) factors() [numFactors]namedWeight {
	return [numFactors]namedWeight{
		{FactorSeverity, w.Severity},
		{FactorCVSS, w.CVSS},
		{FactorExploitKnown, w.ExploitKnown},
		{FactorEPSS, w.EPSS},
		{FactorInternetExposure, w.InternetExposure},
		{FactorAssetCriticality, w.AssetCriticality},
		{FactorDataGrade, w.DataGrade},
		{FactorPrivilegedIdentity, w.PrivilegedIdentity},
		{FactorKillChainBreadth, w.KillChainBreadth},
		{FactorRecency, w.Recency},
	}
}

// decodeStrict decodes YAML into v, rejecting unknown and duplicate keys.
// Errors read "[line:column] message", without the source excerpt.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict())
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errors.New(yaml.FormatError(err, false, false))
	}
	return nil
}
