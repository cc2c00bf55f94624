// Package schedule fires what is due at a time: campaigns scheduled to go
// out at a given time, and recurring schedules (cron specifications, read
// with robfig/cron/v3 in the configured time zone) that mail staff a
// reminder or send a copy of a campaign.
//
// Everything is persisted: a campaign's send time is its row, a recurring
// schedule's next firing is its next_at. A firing is claimed in the database
// before it is acted on (the campaign's state moves from scheduled, or
// next_at moves forward, in one conditional update), so that it never
// happens twice, even with several processes or a restart. What came due
// while the daemon was down fires at start if it is no later than the grace
// period, and is otherwise recorded as missed. robfig's own runner is not
// used: it keeps its schedule in memory, which is exactly what a restart
// loses.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// parser reads the five standard fields and descriptors such as @monthly.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Next returns the first time after t that spec names, in loc. A bad spec is
// an error that says what is expected.
func Next(spec string, loc *time.Location, t time.Time) (time.Time, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("cron specification %q: %w (expected 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 9 1 */3 *\")", spec, err)
	}
	next := s.Next(t.In(loc))
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("cron specification %q never fires", spec)
	}
	return next, nil
}

// Options configure a Scheduler.
type Options struct {
	// Location is the time zone of send times and cron specifications.
	Location *time.Location
	// Grace is how late a firing may still happen (after a downtime).
	Grace time.Duration
	// Poll bounds the sleep between looks at the store, which is how
	// schedules made by other processes (the command line) are seen.
	// Default 10s.
	Poll time.Duration
	// Started is called when a campaign has been moved to sending, so that
	// the engine starts at once.
	Started func()
	// Remind mails a reminder's text to staff.
	Remind func(ctx context.Context, sch *store.Schedule) error
}

// Scheduler fires due campaigns and schedules.
type Scheduler struct {
	st   *store.Storage
	opts Options
	log  *slog.Logger
}

// New returns a Scheduler.
func New(st *store.Storage, opts Options, log *slog.Logger) *Scheduler {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	return &Scheduler{st: st, opts: opts, log: log}
}

// Run fires what is due until ctx is cancelled; a firing under way when it
// is cancelled completes first.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if err := s.Tick(context.WithoutCancel(ctx), time.Now()); err != nil {
			s.log.Error("scheduler", slog.Any("err", err))
		}
		wait := s.opts.Poll
		if next, err := s.st.NextScheduleAt(ctx); err == nil && !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Tick fires everything due at now.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	due, err := s.st.DueCampaigns(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range due {
		errs = append(errs, s.sendAt(ctx, c, now))
	}
	schedules, err := s.st.DueSchedules(ctx, now)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, sch := range schedules {
		errs = append(errs, s.fire(ctx, sch, now))
	}
	return errors.Join(errs...)
}

func (s *Scheduler) local(t time.Time) string {
	return t.In(s.opts.Location).Format("2006-01-02 15:04 MST")
}

// sendAt starts a campaign whose send time has come, or, when it is later
// than the grace period (the daemon was down), puts it back to draft with
// the reason: a newsletter a day late should be a person's decision.
func (s *Scheduler) sendAt(ctx context.Context, c *store.Campaign, now time.Time) error {
	late := now.Sub(c.SendAt)
	log := s.log.With(slog.String("campaign", c.UUID.String()), slog.String("name", c.Name))
	var ch campaign.Change
	if late <= s.opts.Grace {
		ch = campaign.Change{To: store.Sending, Cause: i18n.M("campaign.cause.send_time", s.local(c.SendAt))}
		if late > time.Minute {
			ch.Cause = i18n.M("campaign.cause.send_time_late", s.local(c.SendAt), late.Round(time.Second).String())
		}
	} else {
		why := i18n.M("campaign.reason.missed", s.local(c.SendAt), late.Round(time.Minute).String(), s.opts.Grace.String())
		ch = campaign.Change{To: store.Draft, Cause: i18n.M("campaign.cause.scheduler", why), Reason: why}
	}
	err := campaign.Transition(ctx, s.st, c, ch)
	var se *store.StateError
	if errors.As(err, &se) {
		return nil // another process fired it first
	}
	if err != nil {
		return err
	}
	if ch.To == store.Sending {
		log.Info("scheduled campaign starts", slog.String("send_at", s.local(c.SendAt)))
		if s.opts.Started != nil {
			s.opts.Started()
		}
	} else {
		log.Warn("scheduled campaign missed", slog.String("reason", ch.Reason.String()))
	}
	return nil
}

// fire claims one firing of a recurring schedule and acts on it.
func (s *Scheduler) fire(ctx context.Context, sch *store.Schedule, now time.Time) error {
	next, err := Next(sch.Spec, s.opts.Location, now)
	if err != nil {
		return err
	}
	late := now.Sub(sch.NextAt)
	inTime := late <= s.opts.Grace
	claimed, err := s.st.AdvanceSchedule(ctx, sch.ID, sch.NextAt, next, inTime)
	if err != nil || !claimed {
		return err
	}
	log := s.log.With(slog.String("schedule", sch.UUID.String()), slog.String("spec", sch.Spec))
	var result string
	switch {
	case !inTime:
		result = fmt.Sprintf("missed %s (%s late, more than schedule.grace)", s.local(sch.NextAt), late.Round(time.Minute))
		log.Warn("schedule missed", slog.String("result", result))
	case sch.Kind == store.ScheduleReminder:
		if s.opts.Remind == nil {
			err = errors.New("no way to mail reminders")
		} else {
			err = s.opts.Remind(ctx, sch)
		}
		result = "reminder sent " + s.local(now)
	case sch.Kind == store.ScheduleCampaign:
		result, err = s.copyAndSend(ctx, sch, now)
	}
	if err != nil {
		result = "failed " + s.local(now) + ": " + err.Error()
		log.Error("schedule failed", slog.Any("err", err))
	} else if inTime {
		log.Info("schedule fired", slog.String("result", result), slog.String("next", s.local(next)))
	}
	return s.st.SetScheduleResult(ctx, sch.ID, result)
}

func (s *Scheduler) copyAndSend(ctx context.Context, sch *store.Schedule, now time.Time) (string, error) {
	src, err := s.st.CampaignByID(ctx, sch.CampaignID)
	if err != nil {
		return "", err
	}
	c, err := s.st.CopyCampaign(ctx, src, src.Name+" — "+now.In(s.opts.Location).Format("2006-01-02"))
	if err != nil {
		return "", err
	}
	if err := campaign.Transition(ctx, s.st, c, campaign.Change{To: store.Sending,
		Cause: i18n.M("campaign.cause.recurring", sch.UUID.String(), sch.Spec)}); err != nil {
		return "", err
	}
	if s.opts.Started != nil {
		s.opts.Started()
	}
	return "campaign " + c.UUID.String() + " started " + s.local(now), nil
}
