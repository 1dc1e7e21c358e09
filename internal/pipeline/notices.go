package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/store"
)

// NoticeStore returns a notify.Store that keeps notices in st: each notice
// as its JSON (the row's Doc) beside the columns the store selects and
// sorts on. It behaves as notify.MemoryStore does (notifytest checks it),
// except that notices survive restarts and are shared by every process
// over st; times come back in UTC, without a monotonic reading.
func NoticeStore(st store.Notices) notify.Store { return noticeStore{st: st} }

type noticeStore struct{ st store.Notices }

// noticeRow maps a notice to its row.
func noticeRow(n notify.Notice) (store.NoticeRow, error) {
	doc, err := json.Marshal(n)
	if err != nil {
		return store.NoticeRow{}, fmt.Errorf("pipeline: encoding notice %s: %w", n.ID, err)
	}
	return store.NoticeRow{
		ID: n.ID, Tenant: n.Tenant, Party: n.Party, State: string(n.State), Severity: string(n.Severity), Contact: n.Contact,
		CreatedAt: n.CreatedAt, NotifiedAt: n.NotifiedAt, Deadline: n.Deadline, DeliveredAt: n.DeliveredAt, Doc: doc,
	}, nil
}

// notice reads a notice from its row's Doc.
func notice(r store.NoticeRow) (notify.Notice, error) {
	var n notify.Notice
	if err := json.Unmarshal(r.Doc, &n); err != nil {
		return notify.Notice{}, fmt.Errorf("pipeline: decoding notice %s: %w", r.ID, err)
	}
	return n, nil
}

func notices(rows []store.NoticeRow) ([]notify.Notice, error) {
	var out []notify.Notice
	for _, r := range rows {
		n, err := notice(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (s noticeStore) Create(ctx context.Context, n notify.Notice) error {
	r, err := noticeRow(n)
	if err != nil {
		return err
	}
	err = s.st.CreateNotice(ctx, r)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("pipeline: notice %s: %w", n.ID, notify.ErrExists)
	}
	return err
}

func (s noticeStore) Get(ctx context.Context, id string) (notify.Notice, error) {
	r, err := s.st.Notice(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notify.Notice{}, fmt.Errorf("pipeline: notice %s: %w", id, notify.ErrNotFound)
	}
	if err != nil {
		return notify.Notice{}, err
	}
	return notice(r)
}

// Update runs fn inside the store's atomic update of the notice's row;
// fn's error comes back as it is.
func (s noticeStore) Update(ctx context.Context, id string, fn func(*notify.Notice) error) (notify.Notice, error) {
	var (
		out   notify.Notice
		fnErr error
	)
	_, err := s.st.UpdateNotice(ctx, id, func(r store.NoticeRow) (store.NoticeRow, error) {
		n, err := notice(r)
		if err != nil {
			return r, err
		}
		if fnErr = fn(&n); fnErr != nil {
			return r, fnErr
		}
		n.ID = id
		out = n
		return noticeRow(n)
	})
	switch {
	case fnErr != nil:
		return notify.Notice{}, fnErr
	case errors.Is(err, store.ErrNotFound):
		return notify.Notice{}, fmt.Errorf("pipeline: notice %s: %w", id, notify.ErrNotFound)
	case err != nil:
		return notify.Notice{}, err
	}
	return out, nil
}

func (s noticeStore) Due(ctx context.Context, now time.Time) ([]notify.Notice, error) {
	rows, err := s.st.DueNotices(ctx, now)
	if err != nil {
		return nil, err
	}
	return notices(rows)
}

func (s noticeStore) List(ctx context.Context, f notify.Filter) ([]notify.Notice, error) {
	rows, err := s.st.ListNotices(ctx, store.NoticeQuery{Tenant: f.Tenant, Party: f.Party, State: string(f.State), Limit: max(f.Limit, 0)})
	if err != nil {
		return nil, err
	}
	return notices(rows)
}
