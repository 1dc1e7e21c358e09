package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

// WorldStore is what a [StoreWorld] reads: the tenant's inventory and its
// events.
type WorldStore interface {
	Resources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, error)
	Events(ctx context.Context, q store.Query) (store.Page, error)
}

// StoreWorldOptions configures [NewStoreWorld].
type StoreWorldOptions struct {
	// Store holds the inventory and the events. Required.
	Store WorldStore
	// Assets is the operator's asset context (criticality tiers); the
	// same for every tenant.
	Assets risk.AssetContext
	// MaxEvents bounds how many of a tenant's events, newest first,
	// SeenUsing scans for an access key. Default 10000.
	MaxEvents int
	// TTL is how long a tenant's inventory, once loaded, is used before
	// it is read again. Default 1 minute.
	TTL time.Duration
	// Now is the clock of the TTL. Default time.Now.
	Now func() time.Time
}

// StoreWorld is the [World] of a store: resources and their referrers
// from the tenant's stored inventory (loaded on first use, kept for TTL),
// the entities seen using an access key from the tenant's stored events,
// and the operator's asset context. A resource is found by its UID or, for
// an ARN, by the id after its last "/" (i-…, sg-…) or, for an S3 bucket,
// by its name, as the actions name them. It is safe for concurrent use.
type StoreWorld struct {
	opts StoreWorldOptions
	mu   sync.Mutex
	inv  map[string]*tenantInventory
}

type tenantInventory struct {
	loaded time.Time
	byUID  map[string]inventory.Resource
	alias  map[string][]string // id or name → UIDs
	refs   map[string][]string // target UID or alias → UIDs of the resources referring to it
}

// NewStoreWorld returns the World of opts.Store.
func NewStoreWorld(opts StoreWorldOptions) (*StoreWorld, error) {
	if opts.Store == nil {
		return nil, errors.New("respond: store world: Store is required")
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10000
	}
	if opts.TTL <= 0 {
		opts.TTL = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &StoreWorld{opts: opts, inv: map[string]*tenantInventory{}}, nil
}

// aliasOf returns the short name of a UID: the id after the last "/" of
// an ARN (arn:aws:ec2:…:instance/i-0abc → i-0abc), the bucket of an S3
// ARN; "" for anything else.
func aliasOf(uid string) string {
	low := strings.ToLower(uid)
	if !strings.HasPrefix(low, "arn:") && !strings.HasPrefix(low, "acs:") {
		return ""
	}
	if i := strings.LastIndexByte(uid, '/'); i >= 0 && i < len(uid)-1 {
		return uid[i+1:]
	}
	if strings.HasPrefix(low, "arn:aws:s3:::") || strings.Contains(low, ":s3:::") {
		return uid[strings.LastIndexByte(uid, ':')+1:]
	}
	return ""
}

func (w *StoreWorld) inventory(ctx context.Context, tenant string) (*tenantInventory, error) {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.inv[tenant]; ok && now.Sub(t.loaded) < w.opts.TTL {
		return t, nil
	}
	t := &tenantInventory{loaded: now, byUID: map[string]inventory.Resource{}, alias: map[string][]string{}, refs: map[string][]string{}}
	q := store.ResourceQuery{Tenant: tenant, Limit: store.MaxPage}
	for {
		rows, err := w.opts.Store.Resources(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("inventory of %s: %w", tenant, err)
		}
		for _, row := range rows {
			var r inventory.Resource
			if err := json.Unmarshal(row.Doc, &r); err != nil {
				return nil, fmt.Errorf("inventory of %s: resource %s: %w", tenant, row.Key, err)
			}
			if _, dup := t.byUID[r.UID]; dup {
				continue // the same uid under two keys (partial imports): the first is kept
			}
			t.byUID[r.UID] = r
			if a := aliasOf(r.UID); a != "" {
				t.alias[a] = append(t.alias[a], r.UID)
			}
			for _, rel := range r.Relationships {
				t.refs[rel.Target] = append(t.refs[rel.Target], r.UID)
				if a := aliasOf(rel.Target); a != "" {
					t.refs[a] = append(t.refs[a], r.UID)
				}
			}
		}
		if len(rows) < store.MaxPage {
			break
		}
		q.After = rows[len(rows)-1].Key
	}
	w.inv[tenant] = t
	return t, nil
}

// lookup resolves uid (a UID or an alias) to one resource.
func (t *tenantInventory) lookup(uid string) (inventory.Resource, bool) {
	if r, ok := t.byUID[uid]; ok {
		return r, true
	}
	if uids := t.alias[uid]; len(uids) == 1 {
		return t.byUID[uids[0]], true
	}
	return inventory.Resource{}, false
}

// Resource implements [World].
func (w *StoreWorld) Resource(ctx context.Context, tenant, uid string) (inventory.Resource, error) {
	t, err := w.inventory(ctx, tenant)
	if err != nil {
		return inventory.Resource{}, err
	}
	if r, ok := t.lookup(uid); ok {
		return r, nil
	}
	return inventory.Resource{}, fmt.Errorf("%w: %s", ErrUnknown, uid)
}

// Referrers implements [World]: every resource with a relationship to uid,
// whether the relationship names it by its UID or by its id.
func (w *StoreWorld) Referrers(ctx context.Context, tenant, uid string) ([]inventory.Resource, error) {
	t, err := w.inventory(ctx, tenant)
	if err != nil {
		return nil, err
	}
	keys := []string{uid}
	if r, ok := t.lookup(uid); ok {
		keys = append(keys, r.UID)
		if a := aliasOf(r.UID); a != "" {
			keys = append(keys, a)
		}
	}
	if a := aliasOf(uid); a != "" {
		keys = append(keys, a)
	}
	var out []inventory.Resource
	seen := map[string]bool{}
	for _, k := range keys {
		for _, ref := range t.refs[k] {
			if !seen[ref] {
				seen[ref] = true
				out = append(out, t.byUID[ref])
			}
		}
	}
	return out, nil
}

// seenKinds are the kinds of entity SeenUsing reports: what acts with a
// key, not who it is or what it talks to.
var seenKinds = map[correlate.Kind]bool{correlate.KindHost: true, correlate.KindContainer: true, correlate.KindIP: true, correlate.KindResource: true}

// SeenUsing implements [World]: it scans the tenant's newest API activity
// and authentication events (at most MaxEvents) for those naming key as
// an entity, and returns the hosts, containers, addresses and resources
// they name besides it, each once, in the order met.
func (w *StoreWorld) SeenUsing(ctx context.Context, tenant, key string) ([]correlate.Entity, error) {
	if key == "" {
		return nil, nil
	}
	needle := []byte(key)
	var out []correlate.Entity
	seen := map[correlate.Entity]bool{}
	scanned := 0
	q := store.Query{Tenant: tenant, Classes: []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication}, Limit: store.MaxPage}
	for scanned < w.opts.MaxEvents {
		page, err := w.opts.Store.Events(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", tenant, err)
		}
		for _, r := range page.Records {
			scanned++
			if scanned > w.opts.MaxEvents {
				break
			}
			if !bytes.Contains(r.OCSF, needle) {
				continue // cheap: most events do not mention the key at all
			}
			rec, err := ocsf.Decode(r.OCSF)
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", r.ID, err)
			}
			ents := correlate.Entities(rec)
			uses := false
			for _, e := range ents {
				if e.Value == key {
					uses = true
					break
				}
			}
			if !uses {
				continue
			}
			for _, e := range ents {
				if e.Value == key || e.Common || !seenKinds[e.Kind] || seen[e] {
					continue
				}
				seen[e] = true
				out = append(out, e)
			}
		}
		if page.Next.IsZero() {
			break
		}
		q.After = page.Next
	}
	return out, nil
}

// Assets implements [World].
func (w *StoreWorld) Assets(context.Context, string) (risk.AssetContext, error) {
	return w.opts.Assets, nil
}
