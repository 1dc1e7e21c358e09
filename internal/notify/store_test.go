package notify_test

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/notify/notifytest"
)

// TestMemoryStoreConformance runs the Store suite on MemoryStore, the
// reference behaviour the store-backed implementations are held to.
func TestMemoryStoreConformance(t *testing.T) {
	notifytest.Run(t, func(t *testing.T) notify.Store { return notify.NewMemoryStore() })
}
