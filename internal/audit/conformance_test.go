package audit_test

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/audit/audittest"
)

// TestMemSinkConformance checks the test-only in-memory sink against the
// Sink/Reader contract, so that the other tests rest on a sink that
// behaves like a store.
func TestMemSinkConformance(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Store { return &memSink{} })
}
