package store

import "context"

// Docs keeps small JSON documents of a kind per tenant, for state whose
// shape its package owns (the response engine's runs, approvals, cases and
// record states). Documents list in the order they were created.
type Docs interface {
	// CreateDoc stores a new document; an error wrapping ErrExists when
	// (kind, tenant, id) is taken.
	CreateDoc(ctx context.Context, kind, tenant, id string, doc []byte) error
	// Doc returns a document (ErrNotFound: none).
	Doc(ctx context.Context, kind, tenant, id string) ([]byte, error)
	// UpdateDoc reads a document, calls fn with it (nil when there is none
	// and create is true; ErrNotFound when there is none and create is
	// false) and stores what fn returns, atomically; an error from fn
	// writes nothing and is returned as is.
	UpdateDoc(ctx context.Context, kind, tenant, id string, create bool, fn func(doc []byte) ([]byte, error)) ([]byte, error)
	// ListDocs returns the tenant's documents of a kind, oldest first.
	ListDocs(ctx context.Context, kind, tenant string) ([][]byte, error)
	// DocTenants returns the tenants with documents of a kind, sorted.
	DocTenants(ctx context.Context, kind string) ([]string, error)
}
