package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Quiet is when no campaign message leaves: a daily span of hours (which
// may cross midnight) and, optionally, weekends, in the schedule's time zone.
// The zero Quiet is never quiet.
type Quiet struct {
	Start, End time.Duration // since midnight; Start == End: no quiet hours
	Weekends   bool
	Loc        *time.Location
}

// ParseQuiet reads "20:00-08:00" (empty: none).
func ParseQuiet(hours string, weekends bool, loc *time.Location) (Quiet, error) {
	q := Quiet{Weekends: weekends, Loc: loc}
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	if hours == "" {
		return q, nil
	}
	a, b, ok := strings.Cut(hours, "-")
	var err error
	if ok {
		if q.Start, err = clock(a); err == nil {
			q.End, err = clock(b)
		}
	}
	if !ok || err != nil {
		return q, fmt.Errorf("quiet hours %q: expected HH:MM-HH:MM", hours)
	}
	return q, nil
}

func clock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// quietAt reports whether t is quiet, and if so when the quiet span ends.
func (q Quiet) quietAt(t time.Time) (bool, time.Time) {
	lt := t.In(q.Loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, q.Loc)
	if q.Weekends && (lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday) {
		next := day.AddDate(0, 0, 1)
		if lt.Weekday() == time.Saturday {
			next = day.AddDate(0, 0, 2)
		}
		// Monday may itself start inside the night's quiet hours.
		if quiet, end := q.quietAt(next); quiet {
			return true, end
		}
		return true, next
	}
	if q.Start == q.End {
		return false, time.Time{}
	}
	since := lt.Sub(day)
	switch {
	case q.Start < q.End && since >= q.Start && since < q.End: // 12:00-14:00
		return true, day.Add(q.End)
	case q.Start > q.End && since >= q.Start: // 20:00-08:00, evening
		return true, q.after(day.AddDate(0, 0, 1).Add(q.End))
	case q.Start > q.End && since < q.End: // 20:00-08:00, morning
		return true, day.Add(q.End)
	}
	return false, time.Time{}
}

// after returns t, or the end of the weekend when t falls in one.
func (q Quiet) after(t time.Time) time.Time {
	if quiet, end := q.quietAt(t); quiet && end.After(t) {
		return end
	}
	return t
}

// Next returns t if sending is allowed at t, else when the quiet span ends.
func (q Quiet) Next(t time.Time) time.Time {
	if q.Loc == nil {
		return t
	}
	for range 4 { // a weekend, then the night that ends it
		quiet, end := q.quietAt(t)
		if !quiet || !end.After(t) {
			return t
		}
		t = end
	}
	return t
}

// Pace is what limits how fast a campaign goes out.
type Pace struct {
	Rate        float64 // messages per second, 0: no limit
	HourlyQuota int     // 0: none
	DailyQuota  int
	// SentLastHour and SentLastDay are what the relay has accepted in the
	// windows ending now, from every campaign.
	SentLastHour, SentLastDay int
	Quiet                     Quiet
	// Throughput is the measured messages per second when Rate is 0.
	Throughput float64
}

// EstimateEnd returns when remaining messages will have gone out from now,
// walking minute by minute through quiet spans and quota windows. Quota
// windows are taken as starting now, which is pessimistic by at most one
// window. It is an estimate for people ("fin estimée"), not a promise.
func EstimateEnd(now time.Time, remaining int, p Pace) time.Time {
	if remaining <= 0 {
		return now
	}
	perMin := p.Rate * 60
	if perMin <= 0 {
		perMin = p.Throughput * 60
	}
	if perMin <= 0 {
		perMin = 600 // a guess: ten a second
	}
	t := now
	hourLeft, dayLeft := p.HourlyQuota-p.SentLastHour, p.DailyQuota-p.SentLastDay
	hourEnd, dayEnd := now.Add(time.Hour), now.Add(24*time.Hour)
	left := float64(remaining)
	for step := 0; step < 366*24*60; step++ {
		if next := p.Quiet.Next(t); next.After(t) {
			t = next
		}
		for !t.Before(hourEnd) {
			hourEnd, hourLeft = hourEnd.Add(time.Hour), p.HourlyQuota
		}
		for !t.Before(dayEnd) {
			dayEnd, dayLeft = dayEnd.Add(24*time.Hour), p.DailyQuota
		}
		can := perMin
		if p.HourlyQuota > 0 {
			can = min(can, float64(max(hourLeft, 0)))
		}
		if p.DailyQuota > 0 {
			can = min(can, float64(max(dayLeft, 0)))
		}
		if can <= 0 {
			switch {
			case p.DailyQuota > 0 && dayLeft <= 0:
				t = dayEnd
			default:
				t = hourEnd
			}
			continue
		}
		if left <= can {
			return t.Add(time.Duration(left / perMin * float64(time.Minute)))
		}
		left -= can
		hourLeft -= int(can)
		dayLeft -= int(can)
		t = t.Add(time.Minute)
	}
	return t
}
