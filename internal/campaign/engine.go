package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"bulletin/internal/classify"
	"bulletin/internal/i18n"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
	"bulletin/internal/transport/outbox"
	"bulletin/internal/transport/smtp"
)

// Sender is what the engine needs of a transport: hand over one message,
// and close. Errors are *outgoing.SendError, which say whether to retry and
// whether the recipient or the relay is at fault.
type Sender interface {
	Send(ctx context.Context, m *outgoing.Message) (outgoing.Receipt, error)
	Close() error
}

// Both transports are Senders.
var (
	_ Sender = (*smtp.Sender)(nil)
	_ Sender = (*outbox.Sender)(nil)
)

// Options configure an Engine. The zero value of each field has a default.
type Options struct {
	// Workers is how many messages are in SMTP transactions at once: the
	// transport's connections (smtp.connections). Default 2.
	Workers int
	// Rate is the messages per second over all campaigns; 0: no limit. It
	// is the relay's: the engines sending at once (several daemons on one
	// database) share it equally.
	Rate float64
	// HourlyQuota and DailyQuota are the relay's caps, counted from the
	// ledger over the last hour and day; 0: none.
	HourlyQuota, DailyQuota int
	// RetryBackoff is the first delay before retrying a temporary failure;
	// it doubles with each attempt, with jitter. Default 1m.
	RetryBackoff time.Duration
	// RetryMaxAge is how long after its first attempt a delivery is retried
	// before it fails with the last reply. Default 24h.
	RetryMaxAge time.Duration
	// PauseAfter is how many connection failures in a row pause the
	// campaign. Default 5.
	PauseAfter int
	// Quiet is when nothing is sent.
	Quiet Quiet
	// LeaseTTL is how long an engine is presumed alive after its last
	// heartbeat: how soon another daemon, or a restarted one, sends again
	// what a crashed engine left in flight. Default 10s.
	LeaseTTL time.Duration
	// Poll is how often the store is looked at for campaigns to send and
	// deliveries due again. Default 2s.
	Poll time.Duration
	// Owner names this engine in leases; default host:pid:random.
	Owner string
	// Transport describes the sender for logs ("outbox data/outbox").
	Transport string
	// SoftLimit and SoftWindow are the soft-bounce rule that the relay's
	// soft refusals count toward, as soft bounces do (bounces.soft_limit,
	// bounces.soft_window). Defaults 3 and 30 days.
	SoftLimit  int
	SoftWindow time.Duration
	// Limits, when set, is read at the start of each campaign: the rate,
	// quotas and quiet hours it returns (staff change them in the
	// console) then apply to every campaign sending. nil: the fields
	// above, for good.
	Limits func() (Limits, error)
}

// Limits are the engine's pace: its sending rate, the relay's quotas and
// the quiet hours, as in Options.
type Limits struct {
	Rate                    float64
	HourlyQuota, DailyQuota int
	Quiet                   Quiet
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Minute
	}
	if o.RetryMaxAge <= 0 {
		o.RetryMaxAge = 24 * time.Hour
	}
	if o.PauseAfter <= 0 {
		o.PauseAfter = 5
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.SoftLimit <= 0 {
		o.SoftLimit = 3
	}
	if o.SoftWindow <= 0 {
		o.SoftWindow = 30 * 24 * time.Hour
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	return o
}

// Engine sends the campaigns that are in state sending: it joins each with a
// lease of its own (several engines, in several daemons sharing the
// database, send one campaign together), claims its due deliveries a few at
// a time, hands them to the Sender over Workers concurrent sends, and
// records each outcome. With its heartbeat it sends again what engines that
// died left in flight, and takes its share of the rate.
type Engine struct {
	st      *store.Storage
	sender  Sender
	content *Content
	opts    Options
	log     *slog.Logger
	limiter *rate.Limiter

	limitsMu sync.RWMutex
	limits   Limits // the pace in force: Options' until Options.Limits says otherwise

	engines atomic.Int64 // the engines sending now, this one included, which share the rate
	wake    chan struct{}

	mu      sync.Mutex
	running map[int64]bool
}

// NewEngine returns an engine sending through sender, with messages made
// from content.
func NewEngine(st *store.Storage, sender Sender, content *Content, opts Options, log *slog.Logger) *Engine {
	opts = opts.withDefaults()
	e := &Engine{st: st, sender: sender, content: content, opts: opts, log: log, limiter: rate.NewLimiter(rate.Inf, 0),
		limits: Limits{Rate: opts.Rate, HourlyQuota: opts.HourlyQuota, DailyQuota: opts.DailyQuota, Quiet: opts.Quiet},
		wake:   make(chan struct{}, 1), running: map[int64]bool{}}
	e.engines.Store(1)
	e.applyRate()
	return e
}

// Options returns the engine's options with defaults filled in.
func (e *Engine) Options() Options { return e.opts }

// Wake makes Run look for campaigns to send now rather than at its next poll.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run sends campaigns until ctx is cancelled, then lets the sends in flight
// finish (bounded by the transport's timeout), records them, and returns.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(e.opts.Poll)
	defer tick.Stop()
	for {
		cs, err := e.st.CampaignsToSend(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("looking for campaigns to send", slog.Any("err", err))
		}
		for _, c := range cs {
			if !e.claim(c.ID) {
				continue
			}
			wg.Add(1)
			go func(id int64) {
				defer wg.Done()
				defer e.release(id)
				if err := e.RunCampaign(ctx, id); err != nil && ctx.Err() == nil {
					e.log.Error("sending campaign", slog.Int64("campaign_id", id), slog.Any("err", err))
				}
			}(c.ID)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-e.wake:
		}
	}
}

func (e *Engine) claim(id int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running[id] {
		return false
	}
	e.running[id] = true
	return true
}

func (e *Engine) release(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.running, id)
}

// ErrBusy is returned by RunCampaign when the engine cannot take part in
// the campaign: it is not sending, or no longer (another process finished,
// paused or cancelled it).
var ErrBusy = errors.New("campaign: not sending (finished, paused or cancelled by another process)")

// RunCampaign sends one campaign, which must be in state sending, together
// with the other engines sending it, until every delivery is done (the
// campaign becomes sent), it is paused or cancelled, the relay refuses
// everything (it becomes paused with the reason), the engine is presumed
// dead by the others (its lease lost), or ctx is cancelled. It returns
// ErrBusy when the campaign is not sending.
func (e *Engine) RunCampaign(ctx context.Context, id int64) error {
	owner := e.opts.Owner
	ok, err := e.st.AcquireLease(ctx, id, owner, time.Now().Add(e.opts.LeaseTTL))
	if err != nil {
		return err
	}
	if !ok {
		return ErrBusy
	}
	defer func() {
		if err := e.st.ReleaseLease(context.WithoutCancel(ctx), id, owner); err != nil {
			e.log.Error("releasing campaign lease", slog.Int64("campaign_id", id), slog.Any("err", err))
		}
	}()
	c, err := e.st.CampaignByID(ctx, id)
	if err != nil {
		return err
	}
	log := e.log.With(slog.String("campaign", c.UUID.String()), slog.String("name", c.Name))
	e.refreshLimits(log)
	e.shareRate(ctx, log)
	if n, err := e.st.RecoverInFlight(ctx, id, owner); errors.Is(err, store.ErrLeaseLost) {
		return nil // presumed dead already: the next look at the campaigns joins it again
	} else if err != nil {
		return err
	} else if n > 0 {
		log.Warn("deliveries left in flight by a stopped engine are sent again, each counted as possibly sent twice",
			slog.Int("count", n))
	}
	source, dir, err := e.st.CampaignContent(ctx, id)
	if err != nil {
		return err
	}
	comp, err := e.content.Composer(c, source, dir)
	if err != nil {
		// A layout edited into a broken state: staff fix it and resume.
		reason := i18n.M("campaign.reason.render_failed", i18n.MessageOf(err))
		err := Transition(ctx, e.st, c, Change{To: store.Paused, Cause: i18n.M("campaign.cause.render_failed"), Reason: reason, LeaseOwner: owner})
		if errors.As(err, new(*store.StateError)) {
			return nil // another engine sending it paused it first
		}
		if err == nil {
			log.Error("campaign paused", slog.String("reason", reason.String()))
		}
		return err
	}
	log.Info("sending campaign", slog.String("transport", e.opts.Transport))
	r := &run{e: e, c: c, comp: comp, log: log, owner: owner}
	return r.run(ctx)
}

// run is the sending of one campaign by one engine.
type run struct {
	e     *Engine
	c     *store.Campaign
	comp  *Composer
	log   *slog.Logger
	owner string

	pending    atomic.Int64 // claimed, not yet recorded
	relayFails atomic.Int64 // connection failures in a row
	// deadStreak counts refusals of unknown users in a row, with no message
	// accepted in between (see maxDeadStreak).
	deadStreak atomic.Int64
	mu         sync.Mutex
	pauseWhy   i18n.Message
	waitLogged time.Time
}

func (r *run) pause(reason i18n.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pauseWhy.IsZero() {
		r.pauseWhy = reason
	}
}

func (r *run) pauseReason() i18n.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pauseWhy
}

func (r *run) run(ctx context.Context) error {
	o := r.e.opts
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var beat sync.WaitGroup
	beat.Add(1)
	go func() {
		defer beat.Done()
		r.heartbeat(runCtx, cancel)
	}()

	// Up to four deliveries per worker are claimed ahead: claims then come
	// in batches of a few, one transaction each, while the workers send.
	slots := 4 * o.Workers
	free := make(chan struct{}, slots)
	for range slots {
		free <- struct{}{}
	}
	jobs := make(chan *store.Delivery)
	results := make(chan store.Result, slots)
	// Sends in flight are not cut by shutdown: cut in the middle of DATA, a
	// message may be delivered without the ledger knowing. The transport's
	// own timeout bounds them.
	sendCtx := context.WithoutCancel(ctx)
	var workers sync.WaitGroup
	for range o.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for d := range jobs {
				results <- r.send(sendCtx, d)
				free <- struct{}{}
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.record(results)
	}()

	done, err := r.claim(runCtx, jobs, free)
	close(jobs)
	workers.Wait()
	close(results)
	<-recorded
	cancel()
	beat.Wait()

	bg := context.WithoutCancel(ctx)
	if why := r.pauseReason(); !why.IsZero() {
		err := Transition(bg, r.e.st, r.c, Change{To: store.Paused, Cause: i18n.M("campaign.cause.relay_fault"), Reason: why, LeaseOwner: r.owner})
		if errors.As(err, new(*store.StateError)) {
			return nil // staff paused or cancelled it meanwhile
		}
		if err == nil {
			r.log.Error("campaign paused: the relay refuses to send", slog.String("reason", why.String()))
		}
		return err
	}
	if err != nil || !done {
		return err
	}
	counts, err := r.e.st.CampaignDeliveryCounts(bg, r.c.ID)
	if err != nil {
		return err
	}
	summary := i18n.M("campaign.cause.done", counts.Total,
		counts.ByState[store.Delivered], counts.ByState[store.Undelivered], counts.ByState[store.Skipped])
	if counts.Duplicates > 0 {
		summary.Key = "campaign.cause.done_twice"
		summary.Args = append(summary.Args, counts.Duplicates)
	}
	// Engines sharing the campaign may all find it done at once: the
	// store's state check lets one of them record it.
	err = Transition(bg, r.e.st, r.c, Change{To: store.Sent, Cause: summary, LeaseOwner: r.owner})
	if errors.As(err, new(*store.StateError)) {
		return nil
	}
	if err != nil {
		return err
	}
	r.log.Info(fmt.Sprintf("campaign finished: %d messages handed to %s", counts.ByState[store.Delivered], r.e.opts.Transport), slog.Int("sent", counts.ByState[store.Delivered]), slog.Int("failed", counts.ByState[store.Undelivered]),
		slog.Int("skipped", counts.ByState[store.Skipped]), slog.Int("possibly_sent_twice", counts.Duplicates),
		slog.String("transport", r.e.opts.Transport))
	return nil
}

// heartbeat renews the lease; when that fails (staff paused or cancelled
// the campaign, or the lease was lost) it stops the claiming. With each
// beat it sends again what engines presumed dead left in flight, and takes
// its share of the rate among the engines now sending.
func (r *run) heartbeat(ctx context.Context, stop context.CancelFunc) {
	tick := time.NewTicker(r.e.opts.LeaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ok, err := r.e.st.RenewLease(ctx, r.c.ID, r.owner, time.Now().Add(r.e.opts.LeaseTTL))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("renewing campaign lease", slog.Any("err", err))
			}
			continue
		}
		if !ok {
			why := "paused, cancelled, or this engine presumed dead by another"
			if c, err := r.e.st.CampaignByID(ctx, r.c.ID); err == nil && c.State == store.Sent {
				why = "another engine sent its last messages"
			}
			r.log.Info("campaign no longer sending here (" + why + ")")
			stop()
			return
		}
		if n, err := r.e.st.RecoverAbandoned(ctx, r.c.ID, r.owner); err != nil && ctx.Err() == nil {
			r.log.Warn("looking for deliveries left in flight by a stopped engine", slog.Any("err", err))
		} else if n > 0 {
			r.log.Warn("deliveries left in flight by a stopped engine are sent again, each counted as possibly sent twice",
				slog.Int("count", n))
		}
		r.e.shareRate(ctx, r.log)
	}
}

// claim feeds jobs until the campaign is done (true), or ctx ends, the lease
// is lost, or the run is paused (false). A delivery is claimed (marked in
// flight in the database) only when a worker is free to send it at once, and
// after the rate limiter let it go: its recipient is checked again as late
// as possible, and the rows in flight at any moment are few.
func (r *run) claim(ctx context.Context, jobs chan<- *store.Delivery, free chan struct{}) (bool, error) {
	e := r.e
	give := func(n int) {
		for range n {
			free <- struct{}{}
		}
	}
	for {
		if !r.pauseReason().IsZero() {
			return false, nil
		}
		select {
		case <-free:
		case <-ctx.Done():
			return false, nil
		}
		n := 1
	more:
		for n < cap(free) {
			select {
			case <-free:
				n++
			default:
				break more
			}
		}
		now := time.Now()
		until, allowed, why, err := e.window(ctx, now)
		if err != nil {
			give(n)
			if ctx.Err() != nil {
				return false, nil
			}
			r.log.Error("reading quotas", slog.Any("err", err))
			sleep(ctx, e.opts.Poll)
			continue
		}
		if allowed == 0 {
			give(n)
			if !until.Equal(r.waitLogged) {
				r.waitLogged = until
				r.log.Info("waiting", slog.String("why", why), slog.Time("until", until))
			}
			sleep(ctx, min(until.Sub(now), e.opts.Poll))
			continue
		}
		if allowed < n {
			give(n - allowed)
			n = allowed
		}
		if err := e.limiter.WaitN(ctx, n); err != nil {
			give(n)
			return false, nil
		}
		ds, err := e.st.ClaimDeliveries(ctx, r.c.ID, r.owner, n, time.Now())
		if errors.Is(err, store.ErrLeaseLost) {
			give(n)
			return false, nil
		}
		if err != nil {
			give(n)
			if ctx.Err() != nil {
				return false, nil
			}
			r.log.Error("claiming deliveries", slog.Any("err", err))
			sleep(ctx, e.opts.Poll)
			continue
		}
		r.pending.Add(int64(len(ds)))
		give(n - len(ds))
		for _, d := range ds {
			jobs <- d
		}
		if len(ds) > 0 {
			continue
		}
		// Nothing due (ClaimDeliveries goes on past whole batches of readers
		// who left mid-send, so an empty claim is never one to wait on): wait
		// for the sends in flight, then either every row is final (done) or
		// some wait for a retry.
		if r.pending.Load() > 0 {
			sleep(ctx, 20*time.Millisecond)
			continue
		}
		counts, err := e.st.CampaignDeliveryCounts(ctx, r.c.ID)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		if counts.Pending() == 0 {
			return true, nil
		}
		wait := e.opts.Poll
		if !counts.NextRetry.IsZero() {
			wait = min(wait, max(time.Until(counts.NextRetry), 10*time.Millisecond))
		}
		sleep(ctx, wait)
	}
}

// refreshLimits reads Options.Limits at the start of a campaign; when it
// fails, the pace in force is kept.
func (e *Engine) refreshLimits(log *slog.Logger) {
	if e.opts.Limits == nil {
		return
	}
	l, err := e.opts.Limits()
	if err != nil {
		log.Error("reading the sending pace; the one in force is kept", slog.Any("err", err))
		return
	}
	e.limitsMu.Lock()
	e.limits = l
	e.limitsMu.Unlock()
	e.applyRate()
}

// shareRate counts the engines sending now and, when their number changed,
// takes this engine's share of the rate. When the store cannot say, the
// share in force is kept.
func (e *Engine) shareRate(ctx context.Context, log *slog.Logger) {
	n, err := e.st.LiveEngines(ctx, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("counting the engines sending; the share of the rate in force is kept", slog.Any("err", err))
		}
		return
	}
	if n = max(n, 1); e.engines.Swap(int64(n)) != int64(n) {
		e.applyRate()
		if r := e.Pace().Rate; r > 0 {
			log.Info("sending rate shared among the engines sending", slog.Int("engines", n), slog.Float64("rate", r/float64(n)))
		}
	}
}

// applyRate sets the limiter to this engine's share of the rate in force.
func (e *Engine) applyRate() {
	r := e.Pace().Rate
	if r <= 0 {
		e.limiter.SetLimit(rate.Inf)
		return
	}
	e.limiter.SetBurst(4 * e.opts.Workers)
	e.limiter.SetLimit(rate.Limit(r / float64(e.engines.Load())))
}

// Pace returns the rate, quotas and quiet hours in force.
func (e *Engine) Pace() Limits {
	e.limitsMu.RLock()
	defer e.limitsMu.RUnlock()
	return e.limits
}

// ErrQuota is Admit's answer when the relay's hourly or daily quota is
// used up.
var ErrQuota = errors.New("campaign: relay quota used up")

// Admit lets one mail of the public pages (a double opt-in confirmation)
// go out under the campaigns' own rate and relay quotas: it returns
// ErrQuota when a quota is used up, else waits for its turn in the rate.
// The caller records the mail in the store (transactional sends), where
// the quotas count it. Quiet hours do not hold it back: the person is
// waiting for it.
func (e *Engine) Admit(ctx context.Context) error {
	_, allowed, why, err := e.quotas(ctx, time.Now())
	if err != nil {
		return err
	}
	if allowed == 0 {
		return fmt.Errorf("%w (%s)", ErrQuota, why)
	}
	return e.limiter.Wait(ctx)
}

// window returns how many messages may go now under the quiet hours and the
// quotas, and when zero, until when and why.
func (e *Engine) window(ctx context.Context, now time.Time) (until time.Time, allowed int, why string, err error) {
	if next := e.Pace().Quiet.Next(now); next.After(now) {
		return next, 0, "quiet hours", nil
	}
	return e.quotas(ctx, now)
}

// quotas is window without the quiet hours. The quotas are the relay's, over
// every daemon: what was sent and what is in flight are both counted from
// the ledger, which all share, so that engines claiming at the same moment
// pass a quota by one claim each (4 per worker) at most.
func (e *Engine) quotas(ctx context.Context, now time.Time) (until time.Time, allowed int, why string, err error) {
	allowed = math.MaxInt
	pace := e.Pace()
	if pace.HourlyQuota <= 0 && pace.DailyQuota <= 0 {
		return until, allowed, "", nil
	}
	// In flight before sent: a row recorded between the two counts is
	// counted twice, never missed.
	inflight, err := e.st.InFlight(ctx)
	if err != nil {
		return time.Time{}, 0, "", err
	}
	for _, w := range []struct {
		quota int
		span  time.Duration
		name  string
	}{{pace.HourlyQuota, time.Hour, "hourly quota"}, {pace.DailyQuota, 24 * time.Hour, "daily quota"}} {
		if w.quota <= 0 {
			continue
		}
		since := now.Add(-w.span)
		n, err := e.st.SentSince(ctx, since)
		if err != nil {
			return time.Time{}, 0, "", err
		}
		if used := n + inflight; used < w.quota {
			allowed = min(allowed, w.quota-used)
			continue
		}
		// The window frees a place when its oldest messages leave it.
		at := now.Add(time.Second) // only sends in flight fill it: they will be recorded soon
		if n >= w.quota {
			first, err := e.st.NthSentSince(ctx, since, n-w.quota)
			if err != nil {
				return time.Time{}, 0, "", err
			}
			if !first.IsZero() {
				at = first.Add(w.span)
			}
		}
		if at.After(until) {
			until, why = at, w.name
		}
		allowed = 0
	}
	return until, allowed, why, nil
}

// maxDeadStreak is how many refusals of unknown users in a row, with no
// message accepted in between, make the engine pause rather than suppress
// more: a real list, whose dead addresses are scattered among live ones,
// does not get there; a relay that refuses every recipient does at once, and
// at most this many less one are suppressed before staff look.
const maxDeadStreak = 20

// send sends one delivery and says what became of it.
func (r *run) send(ctx context.Context, d *store.Delivery) store.Result {
	m := r.comp.Message(d)
	rcpt, err := r.e.sender.Send(ctx, m)
	res := store.Result{DeliveryID: d.ID, At: time.Now(), MessageID: m.MessageID, ClaimedBy: d.ClaimedBy}
	if err == nil {
		r.relayFails.Store(0)
		r.deadStreak.Store(0)
		res.Outcome, res.Reply = store.OutcomeSent, rcpt.Reply
		if rcpt.MessageID != "" {
			res.MessageID = rcpt.MessageID
		}
		res.SMTPCode, res.EnhancedCode = replyCodes(rcpt.Reply)
		return res
	}
	var se *outgoing.SendError
	if !errors.As(err, &se) {
		se = &outgoing.SendError{Temporary: true, Scope: outgoing.ScopeRelay, Message: err.Error(), Err: err}
	}
	res.SMTPCode, res.EnhancedCode, res.Reply = se.Code, se.Enhanced, reply(se)
	// A permanent refusal of the recipient is judged like a bounce; one
	// that refuses the session (relaying denied, the sender refused) is
	// the relay's fault, whatever command it answered.
	var judged classify.Refusal
	if se.Scope == outgoing.ScopeRecipient && !se.Temporary {
		judged = classify.JudgeReply(se.Command, se.Code, se.Enhanced, se.Message)
	}
	if se.Scope == outgoing.ScopeRecipient && !judged.RelayWide {
		r.relayFails.Store(0) // the relay answered
		if se.Temporary {
			return r.retry(d, res)
		}
		if judged.Kind == classify.Hard && r.deadStreak.Add(1) >= maxDeadStreak {
			// A relay that calls everyone unknown is broken or misconfigured
			// (a wrong recipient table, a relay that is not the domain's):
			// believing it would suppress the whole list. Stop and ask.
			r.pause(i18n.M("campaign.reason.all_unknown", maxDeadStreak, reply(se)))
			res.Outcome = store.OutcomeRequeue
			return res
		}
		res.Outcome = store.OutcomeFailed
		if judged.Kind == classify.Hard || judged.Kind == classify.Soft {
			res.Refusal = &store.Refusal{Kind: string(judged.Kind), Reason: judged.Reason,
				SoftLimit: r.e.opts.SoftLimit, SoftWindow: r.e.opts.SoftWindow}
		}
		return res
	}
	// The relay's fault: the recipient is not to blame, so once the run is
	// paused its deliveries go back to the queue without counting an attempt.
	switch {
	case !r.pauseReason().IsZero():
	case !se.Temporary:
		r.pause(i18n.M("campaign.reason.relay_refused", reply(se)))
	case errors.Is(err, smtp.ErrClosed) || errors.Is(err, outbox.ErrClosed) || errors.Is(err, context.Canceled):
	default:
		if n := r.relayFails.Add(1); n >= int64(r.e.opts.PauseAfter) {
			r.pause(i18n.M("campaign.reason.relay_down", int(n), reply(se)))
		} else {
			return r.retry(d, res)
		}
	}
	res.Outcome = store.OutcomeRequeue
	return res
}

// retry queues d again after an exponential backoff with jitter, or fails
// it with the last reply when that would take it past RetryMaxAge.
func (r *run) retry(d *store.Delivery, res store.Result) store.Result {
	o := r.e.opts
	delay := o.RetryBackoff << min(d.Attempts, 16)
	delay = min(delay, max(o.RetryMaxAge/4, o.RetryBackoff))
	delay = time.Duration(float64(delay) * (0.5 + rand.Float64())) // jitter: retries of one burst spread out
	first := d.FirstAttemptAt
	if first.IsZero() {
		first = res.At
	}
	if res.At.Add(delay).Sub(first) > o.RetryMaxAge {
		res.Outcome = store.OutcomeFailed
		res.Reply = fmt.Sprintf("%s (gave up after %d attempts over %s)", res.Reply, d.Attempts+1, res.At.Sub(first).Round(time.Second))
		return res
	}
	res.Outcome, res.NextAttemptAt = store.OutcomeRetry, res.At.Add(delay)
	return res
}

// record writes outcomes in batches: one transaction for many rows keeps
// the single SQLite writer from being the bottleneck. A batch waits at most
// 20ms; until it is written its rows stay "sending", which after a crash
// counts them as possible duplicates, never as lost.
func (r *run) record(results <-chan store.Result) {
	const maxBatch = 128
	batch := make([]store.Result, 0, maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var err error
		for try := range 5 {
			if err = r.e.st.RecordResults(context.Background(), batch); err == nil {
				break
			}
			time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
		}
		if err != nil {
			r.log.Error("recording outcomes; the rows stay in flight and will be sent again", slog.Int("count", len(batch)), slog.Any("err", err))
		}
		r.pending.Add(-int64(len(batch)))
		batch = batch[:0]
	}
	for {
		select {
		case res, ok := <-results:
			if !ok {
				flush()
				return
			}
			batch = append(batch, res)
			if len(batch) == 1 {
				timer.Reset(20 * time.Millisecond)
			}
			if len(batch) >= maxBatch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// reply is what the ledger keeps of a failure: the relay's own words with
// the command that failed.
func reply(se *outgoing.SendError) string {
	var b strings.Builder
	if se.Command != "" {
		b.WriteString(se.Command + ": ")
	}
	if se.Code != 0 {
		b.WriteString(strconv.Itoa(se.Code) + " ")
	}
	if se.Enhanced != "" {
		b.WriteString(se.Enhanced + " ")
	}
	b.WriteString(se.Message)
	return b.String()
}

// replyCodes reads "250 2.0.0 Ok: queued as X".
func replyCodes(s string) (int, string) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, ""
	}
	code, err := strconv.Atoi(f[0])
	if err != nil || code < 200 || code > 599 {
		return 0, ""
	}
	if len(f) > 1 && strings.Count(f[1], ".") == 2 && f[1][0] >= '2' && f[1][0] <= '5' {
		return code, f[1]
	}
	return code, ""
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
