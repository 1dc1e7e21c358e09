package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Attempt is the outcome of one delivery attempt on one channel, reported
// to [DeliveryOptions.OnAttempt] (the audit log's hook).
type Attempt struct {
	// Notice is the notice being delivered.
	Notice Notice
	// Contact is the contact it is addressed to.
	Contact string
	// Channel and Kind identify the channel.
	Channel string
	Kind    string
	// Number counts attempts on this channel, from 1.
	Number int
	// At is when the attempt finished.
	At time.Time
	// Err is nil when the channel accepted the notice.
	Err error
	// Final is true when no further attempt follows on this channel: the
	// attempt succeeded, failed permanently, or was the last allowed.
	Final bool
	// RetryIn is the wait before the next attempt when Final is false.
	RetryIn time.Duration
}

// DeliveryOptions configures a [Deliverer].
type DeliveryOptions struct {
	// MaxAttempts bounds the attempts per channel and delivery. Default 4.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt; it doubles after
	// each attempt. Default 1s.
	BaseDelay time.Duration
	// MaxDelay caps one wait, including a Retry-After the platform asked
	// for; a longer Retry-After ends the delivery as failed. Default 1m.
	MaxDelay time.Duration
	// OnAttempt, when set, is called after every attempt, from the
	// goroutine delivering to that channel (channels of one contact are
	// delivered concurrently, so it must be safe for concurrent use).
	OnAttempt func(ctx context.Context, a Attempt) `json:"-"`
	// Sleep waits d or until ctx is done. Default: a timer. Tests inject
	// one that records the delays and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Jitter returns a number in [0, 1) that spreads the backoff. Default
	// math/rand/v2.
	Jitter func() float64 `json:"-"`
	// Now is the clock for Attempt.At. Default time.Now.
	Now func() time.Time `json:"-"`
	// Logger receives retry warnings (Warn) and per-attempt detail (Debug).
	// Nil discards.
	Logger *slog.Logger `json:"-"`
}

// Deliverer sends a notice to a contact's channels, retrying transient
// failures with exponential backoff and jitter. It is safe for concurrent
// use.
type Deliverer struct {
	opts DeliveryOptions
}

// NewDeliverer applies the defaults to opts and returns a Deliverer.
func NewDeliverer(opts DeliveryOptions) *Deliverer {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = time.Second
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = time.Minute
	}
	if opts.MaxDelay < opts.BaseDelay {
		opts.MaxDelay = opts.BaseDelay
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{opts: opts}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff returns the wait after attempt number n (from 1): "equal
// jitter", between half and all of BaseDelay·2^(n-1), capped at MaxDelay.
func (d *Deliverer) backoff(n int) time.Duration {
	exp := d.opts.BaseDelay
	for i := 1; i < n && exp < d.opts.MaxDelay; i++ {
		exp *= 2
	}
	exp = min(exp, d.opts.MaxDelay)
	half := exp / 2
	return half + time.Duration(d.opts.Jitter()*float64(exp-half))
}

// Deliver sends n to one channel, retrying temporary failures. It returns
// nil once the channel accepted the notice, or the last attempt's error.
func (d *Deliverer) Deliver(ctx context.Context, ch Channel, n Notice, to Contact) error {
	log := d.opts.Logger.With("channel", ch.Name(), "notice_id", n.ID)
	for attempt := 1; ; attempt++ {
		err := ch.Send(ctx, n, to)
		a := Attempt{Notice: n, Contact: to.ID, Channel: ch.Name(), Kind: ch.Kind(), Number: attempt, At: d.opts.Now(), Err: err}
		if err == nil {
			a.Final = true
			d.report(ctx, a)
			log.Debug("notice delivered", "attempt", attempt)
			return nil
		}
		temporary, wait := retryable(err)
		switch {
		case !temporary:
			a.Final = true
		case attempt >= d.opts.MaxAttempts:
			a.Final = true
			err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			a.Err = err
		case ctx.Err() != nil:
			a.Final = true
		case wait > d.opts.MaxDelay:
			a.Final = true
			err = fmt.Errorf("%w (platform asked to wait %s, over the %s limit)", err, wait, d.opts.MaxDelay)
			a.Err = err
		default:
			if wait <= 0 {
				wait = d.backoff(attempt)
			}
			a.RetryIn = wait
		}
		d.report(ctx, a)
		if a.Final {
			return err
		}
		log.Warn("notice delivery failed, retrying", "attempt", attempt, "retry_in", a.RetryIn, "err", err)
		if serr := d.opts.Sleep(ctx, a.RetryIn); serr != nil {
			return fmt.Errorf("%w (retry abandoned: %w)", err, serr)
		}
	}
}

func (d *Deliverer) report(ctx context.Context, a Attempt) {
	if d.opts.OnAttempt != nil {
		d.opts.OnAttempt(ctx, a)
	}
}

// retryable reports whether err may pass on retry, and the wait the
// platform asked for.
func retryable(err error) (bool, time.Duration) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary, se.RetryAfter
	}
	return false, 0
}

// ChannelResult is the outcome of a delivery on one channel.
type ChannelResult struct {
	// Channel is the channel's name.
	Channel string
	// Err is the final error on that channel, nil when it accepted the
	// notice.
	Err error
}

// DeliverAll sends n to every channel at once and waits for all of them.
// It returns the per-channel results in the order of chans, and an error
// wrapping [ErrUndelivered] and every channel's error when no channel
// accepted the notice.
func (d *Deliverer) DeliverAll(ctx context.Context, chans []Channel, n Notice, to Contact) ([]ChannelResult, error) {
	res := make([]ChannelResult, len(chans))
	var wg sync.WaitGroup
	for i, ch := range chans {
		res[i].Channel = ch.Name()
		wg.Go(func() { res[i].Err = d.Deliver(ctx, ch, n, to) })
	}
	wg.Wait()
	var errs []error
	for _, r := range res {
		if r.Err == nil {
			return res, nil
		}
		errs = append(errs, r.Err)
	}
	if len(chans) == 0 {
		errs = append(errs, errors.New("contact has no channels"))
	}
	return res, fmt.Errorf("notify: notice %s to contact %q: %w: %w", n.ID, to.ID, ErrUndelivered, errors.Join(errs...))
}
