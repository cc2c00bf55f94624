package web

import (
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"bulletin/internal/i18n"
	"bulletin/internal/report"
	"bulletin/internal/report/chart"
	"bulletin/internal/store"
)

// The colours of the reports, the same on every chart and badge: green
// for what arrived, reds for what did not, grey for what was not tried.
const (
	colDelivered = "#1e7b4f"
	colBounced   = "#d4622a"
	colHard      = "#8a1c12"
	colSoft      = "#e8a33a"
	colFailed    = "#c0392b"
	colSkipped   = "#9aa5b1"
	colPending   = "#2f6fd0"
	colComplaint = "#a4266f"
	colUnsub     = "#5a4fcf"
	colOpen      = "#2f6fd0"
	colClick     = "#0f766e"
	colOther     = "#616e7c"
)

// listColours tell the lists apart on the lists' chart.
var listColours = []string{"#1d4e89", "#e8833a", "#1e7b4f", "#6941c6", "#a4266f", "#0f766e", "#b42318", "#7a5200"}

// reportFmt holds what formats the numbers of a report page.
type reportFmt struct {
	p   *i18n.Printer
	loc *time.Location
}

// Num writes an integer with the language's thousands separator.
func (f reportFmt) Num(n int) string { return f.p.Number(n) }

// Signed writes a change: "+12", "−3", "0".
func (f reportFmt) Signed(n int) string {
	switch {
	case n > 0:
		return "+" + f.p.Number(n)
	case n < 0:
		return "−" + f.p.Number(-n)
	}
	return "0"
}

// Pct writes a rate, or a dash when it has no denominator yet.
func (f reportFmt) Pct(r *float64) string {
	if r == nil {
		return "–"
	}
	return report.Percent(f.p, *r)
}

// Reason writes a skip or bounce reason, or an unsubscribe source, in words.
func (f reportFmt) Reason(code string) string { return report.ReasonLabel(f.p, code) }

// Outcome writes what became of a delivery.
func (f reportFmt) Outcome(o string) string { return f.p.T("report.outcome." + o) }

// Day writes the day of a time in the schedule's time zone.
func (f reportFmt) Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return f.p.Date(t.In(f.loc))
}

// RateClass colours a delivery rate: ok from 97 %, warn from 90 %, bad
// below, as a glance down a column should tell.
func (f reportFmt) RateClass(r *float64) string {
	switch {
	case r == nil:
		return ""
	case *r >= 0.97:
		return "ok"
	case *r >= 0.90:
		return "warn"
	}
	return "bad"
}

// ComplaintClass colours a number of complaints out of delivered: bad
// from the 0.3 % that Gmail and Yahoo tolerate.
func (f reportFmt) ComplaintClass(complaints, delivered int) string {
	if delivered > 0 && float64(complaints) >= 0.003*float64(delivered) {
		return "bad"
	}
	return ""
}

// When writes a time in the schedule's time zone, or nothing for zero.
func (f reportFmt) When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return f.p.DateTime(t.In(f.loc))
}

// Short writes a time as a compact day and hour: "15/01 09:42".
func (f reportFmt) Short(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(f.loc)
	if f.p.Lang() == "fr" {
		return t.Format("02/01 15:04")
	}
	return t.Format("Jan 2 15:04")
}

func (f reportFmt) format() chart.Format {
	return func(v float64) string { return f.p.Number(int(v + 0.5)) }
}

// bucketLabel writes the start of a timeline bucket on a chart's axis.
func (f reportFmt) bucketLabel(t time.Time, size string) string {
	fr := f.p.Lang() == "fr"
	switch {
	case size == report.Hour && fr:
		return t.Format("02/01 15") + "h"
	case size == report.Hour:
		return t.Format("Jan 2 15:04")
	case fr:
		return t.Format("02/01")
	}
	return t.Format("Jan 2")
}

// reportFigure is one of the big numbers at the top of a report.
type reportFigure struct {
	Label string // message key
	Value string
	Note  string // under the number: a rate, a detail
	Class string // colour of the number: ok, bad, warn, ""
	Href  string // the addresses it counts, when listed
}

// reportTab is one choice of the addresses listed.
type reportTab struct {
	Show    string
	Label   string // message key
	Count   int
	Current bool
}

// campaignReportView is what the campaign report page shows.
type campaignReportView struct {
	reportFmt
	R    *report.Campaign
	Base string // the page's path

	Figures []reportFigure
	Share   template.HTML // where every recipient ended up
	Sends   template.HTML // sends per hour or day
	Events  template.HTML // what came back per day or hour
	Opens   template.HTML // opens and clicks per day, when tracked

	TopDomains  []report.Domain
	Rest        report.Domain
	OtherCount  int // domains in Rest
	Tabs        []reportTab
	Show        string
	Page, Pages int

	Summaries []store.SummaryRecord
	// Live: deliveries are still pending. Collecting: the campaign
	// finished less than the bounce window ago, so bounces may still come
	// in until CollectUntil.
	Live         bool
	Collecting   bool
	CollectUntil time.Time
}

const reportPageSize = 50

// chartWidth is the width the charts are drawn for: half of the console's
// page, so that their text reads at its size.
const chartWidth = 500

func newCampaignReportView(p *i18n.Printer, loc *time.Location, r *report.Campaign, show string, page int,
	summaries []store.SummaryRecord, bounceWindow time.Duration, now time.Time) *campaignReportView {
	v := &campaignReportView{reportFmt: reportFmt{p: p, loc: loc}, R: r, Base: report.CampaignPath(r.ID),
		Show: show, Page: page, Summaries: summaries, Live: r.Pending > 0}
	v.Pages = max(1, (r.Addresses.Total+reportPageSize-1)/reportPageSize)
	if !r.FinishedAt.IsZero() && bounceWindow > 0 && now.Before(r.FinishedAt.Add(bounceWindow)) {
		v.Collecting, v.CollectUntil = true, r.FinishedAt.Add(bounceWindow)
	}
	href := func(show string) string { return v.Base + "?show=" + show + "#addresses" }
	num := p.Number
	v.Figures = []reportFigure{
		{Label: "report.fig.recipients", Value: num(r.Recipients), Href: href("all")},
		{Label: "report.fig.sent", Value: num(r.Sent), Href: href("sent"),
			Note: p.T("report.fig.sent_note", num(r.SentAfterRetry))},
		{Label: "report.fig.delivered", Value: num(r.Delivered), Class: "ok", Href: href("delivered"),
			Note: p.T("report.fig.delivered_note", v.Pct(r.DeliveryRate))},
		{Label: "report.fig.failed", Value: num(r.Failed), Class: bad(r.Failed), Href: href("failed")},
		{Label: "report.fig.skipped", Value: num(r.Skipped), Href: href("skipped")},
		{Label: "report.fig.pending", Value: num(r.Pending), Class: warn(r.Pending), Href: href("pending"),
			Note: p.T("report.fig.pending_note", num(r.Retrying))},
		{Label: "report.fig.bounced_hard", Value: num(r.BouncedHard), Class: bad(r.BouncedHard), Href: href("hard")},
		{Label: "report.fig.bounced_soft", Value: num(r.BouncedSoft), Class: warn(r.BouncedSoft), Href: href("soft")},
		{Label: "report.fig.refused_hard", Value: num(r.RefusedHard), Class: bad(r.RefusedHard), Href: href("refused")},
		{Label: "report.fig.refused_soft", Value: num(r.RefusedSoft), Class: warn(r.RefusedSoft), Href: href("refused")},
		{Label: "report.fig.dead_addresses", Value: num(r.DeadAddresses), Class: bad(r.DeadAddresses), Href: href("dead"),
			Note: p.T("report.fig.dead_note", num(r.BouncedHard), num(r.RefusedHard))},
		{Label: "report.fig.complaints", Value: num(r.Complaints), Class: bad(r.Complaints), Href: href("complaint"),
			Note: p.T("report.fig.rate_of_delivered", v.Pct(r.ComplaintRate))},
		{Label: "report.fig.unsubscribed", Value: num(r.Unsubscribed), Href: href("unsubscribed"),
			Note: p.T("report.fig.rate_of_delivered", v.Pct(r.UnsubscribeRate))},
	}
	delivered := p.T("report.share.delivered")
	if r.Outbox() {
		// Files in a folder reached nobody: neither "sent" nor "delivered"
		// with a delivery rate of 100 %.
		v.Figures = slices.Replace(v.Figures, 1, 3, reportFigure{Label: "outbox.fig.written", Value: num(r.Outboxed),
			Class: "warn", Href: href("sent"), Note: p.T("outbox.fig.written_note")})
		delivered = p.T("outbox.fig.written")
	}
	v.Share = chart.Share{Title: p.T("report.share.title"), Format: v.format(), Parts: []chart.Part{
		{Name: delivered, Color: colDelivered, Value: r.Delivered},
		{Name: p.T("report.share.bounced"), Color: colBounced, Value: r.Sent - r.Delivered},
		{Name: p.T("report.share.failed"), Color: colFailed, Value: r.Failed},
		{Name: p.T("report.share.skipped"), Color: colSkipped, Value: r.Skipped},
		{Name: p.T("report.share.pending"), Color: colPending, Value: r.Pending},
	}}.SVG()

	tl := r.Timeline
	var labels []string
	var sent, failed []float64
	for _, pt := range tl.Sends {
		labels = append(labels, v.bucketLabel(pt.At, tl.SendBucket))
		sent = append(sent, float64(pt.Sent))
		failed = append(failed, float64(pt.Failed))
	}
	v.Sends = chart.Bars{Title: p.T("report.chart.sends_" + tl.SendBucket), Labels: labels, Format: v.format(), Width: chartWidth, Height: 230,
		Empty: p.T("report.chart.empty"), Series: []chart.Series{
			{Name: p.T("report.chart.sent"), Color: colDelivered, Values: sent},
			{Name: p.T("report.chart.failed"), Color: colFailed, Values: failed},
		}}.SVG()
	labels = nil
	var hard, soft, compl, unsub, opens, clicks []float64
	for _, pt := range tl.Events {
		labels = append(labels, v.bucketLabel(pt.At, tl.EventBucket))
		hard = append(hard, float64(pt.BouncedHard))
		soft = append(soft, float64(pt.BouncedSoft))
		compl = append(compl, float64(pt.Complaints))
		unsub = append(unsub, float64(pt.Unsubscribed))
		opens = append(opens, float64(pt.Opens))
		clicks = append(clicks, float64(pt.Clicks))
	}
	v.Events = chart.Bars{Title: p.T("report.chart.events_" + tl.EventBucket), Labels: labels, Format: v.format(), Width: chartWidth, Height: 230,
		Empty: p.T("report.chart.no_events"), Series: []chart.Series{
			{Name: p.T("report.chart.hard"), Color: colHard, Values: hard},
			{Name: p.T("report.chart.soft"), Color: colSoft, Values: soft},
			{Name: p.T("report.chart.complaints"), Color: colComplaint, Values: compl},
			{Name: p.T("report.chart.unsubscribed"), Color: colUnsub, Values: unsub},
		}}.SVG()
	if r.Tracking != nil {
		v.Opens = chart.Bars{Title: p.T("report.chart.opens_" + tl.EventBucket), Labels: labels, Format: v.format(), Width: chartWidth, Height: 200,
			Empty: p.T("report.chart.no_events"), Series: []chart.Series{
				{Name: p.T("report.chart.opens"), Color: colOpen, Values: opens},
				{Name: p.T("report.chart.clicks"), Color: colClick, Values: clicks},
			}}.SVG()
	}
	v.TopDomains, v.Rest, v.OtherCount = r.TopDomains(10)

	for _, t := range []struct {
		show string
		n    int
	}{
		{"problems", -1}, {"failed", r.Failed}, {"refused", r.RefusedHard + r.RefusedSoft}, {"bounced", r.BouncedHard + r.BouncedSoft}, {"complaint", r.Complaints},
		{"unsubscribed", r.Unsubscribed}, {"skipped", r.Skipped}, {"pending", r.Pending}, {"delivered", r.Delivered},
		{"all", r.Recipients},
	} {
		n := t.n
		if t.show == show {
			n = r.Addresses.Total
		}
		v.Tabs = append(v.Tabs, reportTab{Show: t.show, Label: "report.show." + t.show, Count: n, Current: t.show == show})
	}
	return v
}

func bad(n int) string {
	if n > 0 {
		return "bad"
	}
	return ""
}

func warn(n int) string {
	if n > 0 {
		return "warn"
	}
	return ""
}

// PageHref returns the link to another page of the addresses.
func (v *campaignReportView) PageHref(page int) string {
	return v.Base + "?show=" + v.Show + "&page=" + strconv.Itoa(page) + "#addresses"
}

// Class returns the badge class of an outcome.
func (v *campaignReportView) Class(outcome string) string {
	switch outcome {
	case report.OutcomeDelivered:
		return "sent"
	case report.OutcomeFailed, report.OutcomeBouncedHard:
		return "failed"
	case report.OutcomeBouncedSoft, report.OutcomeRetrying, report.OutcomePending:
		return "pending"
	case report.OutcomeComplaint:
		return "complained"
	}
	return "unsubscribed"
}

// Code writes the codes of an address's outcome: the bounce's status, or
// the relay's reply codes.
func (v *campaignReportView) Code(a report.Address) string {
	switch a.Outcome {
	case report.OutcomeBouncedHard, report.OutcomeBouncedSoft:
		return a.BounceStatus
	case report.OutcomeFailed, report.OutcomeRetrying:
	default:
		return "" // the relay's 250 says nothing about a complaint or an unsubscribe
	}
	if a.SMTPCode == 0 {
		return a.EnhancedCode
	}
	return strings.TrimSpace(strconv.Itoa(a.SMTPCode) + " " + a.EnhancedCode)
}

// At returns the time of an address's outcome.
func (v *campaignReportView) At(a report.Address) string {
	for _, t := range []time.Time{a.BouncedAt, a.ComplainedAt, a.UnsubscribedAt, a.SentAt, a.LastAttemptAt} {
		if !t.IsZero() {
			return v.Short(t)
		}
	}
	return ""
}

// FailureClass writes a reply class in words.
func (v *campaignReportView) FailureClass(class string) string { return v.p.T("report.class." + class) }

// listsReportView is what the lists page shows.
type listsReportView struct {
	reportFmt
	O     *report.Overview
	Total int // active subscribers on at least one list, now
	// ShowOther: some quarter had departures other than unsubscribes and
	// suppressions; without any, the column is left out.
	ShowOther bool
	Current   []listNow
	Sizes     template.HTML    // active members per list at the end of each quarter
	Flows     template.HTML    // arrivals and departures per quarter
	Quarters  []report.Quarter // newest first
}

// listNow is a list and its active members now (at the end of the last
// quarter replayed).
type listNow struct {
	Name    string
	Members int
}

// Quarter writes a quarter's label: "T1 2026", "Q1 2026".
func (f reportFmt) Quarter(label string) string {
	year, q, ok := strings.Cut(label, "-Q")
	if !ok {
		return label
	}
	return f.p.T("report.quarter", q, year)
}

func newListsReportView(p *i18n.Printer, loc *time.Location, o *report.Overview) *listsReportView {
	v := &listsReportView{reportFmt: reportFmt{p: p, loc: loc}, O: o}
	var labels []string
	total := make([]float64, len(o.Quarters))
	perList := make([][]float64, len(o.Lists))
	var arrivals, unsub, bounced, complained, other []float64
	for i, q := range o.Quarters {
		labels = append(labels, v.Quarter(q.Quarter))
		total[i] = float64(q.Subscribers.End)
		for j, f := range q.Lists {
			perList[j] = append(perList[j], float64(f.End))
		}
		arrivals = append(arrivals, float64(q.Subscribers.New))
		unsub = append(unsub, float64(q.Subscribers.Unsubscribed))
		bounced = append(bounced, float64(q.Subscribers.Bounced))
		complained = append(complained, float64(q.Subscribers.Complained))
		other = append(other, float64(q.Subscribers.Other))
		v.ShowOther = v.ShowOther || q.Subscribers.Other > 0
	}
	series := []chart.Series{{Name: p.T("report.lists.all"), Color: "#1f2933", Values: total}}
	for j, name := range o.Lists {
		series = append(series, chart.Series{Name: name, Color: listColours[j%len(listColours)], Values: perList[j]})
	}
	v.Sizes = chart.Lines{Title: p.T("report.lists.sizes_title"), Labels: labels, Series: series, Format: v.format(), Width: chartWidth, Height: 240,
		Empty: p.T("report.chart.empty")}.SVG()
	v.Flows = chart.Bars{Title: p.T("report.lists.flows_title"), Labels: labels, Format: v.format(), Width: chartWidth, Height: 240,
		Empty: p.T("report.chart.empty"), Series: []chart.Series{
			{Name: p.T("report.lists.new"), Color: colDelivered, Values: arrivals},
			{Name: p.T("report.lists.unsubscribed"), Color: colUnsub, Values: unsub, Down: true},
			{Name: p.T("report.lists.bounced"), Color: colHard, Values: bounced, Down: true},
			{Name: p.T("report.lists.complained"), Color: colComplaint, Values: complained, Down: true},
			{Name: p.T("report.lists.other"), Color: colSkipped, Values: other, Down: true},
		}}.SVG()
	if n := len(o.Quarters); n > 0 {
		v.Total = o.Quarters[n-1].Subscribers.End
		for _, f := range o.Quarters[n-1].Lists {
			v.Current = append(v.Current, listNow{Name: f.List, Members: f.End})
		}
	}
	for i := len(o.Quarters) - 1; i >= 0; i-- {
		v.Quarters = append(v.Quarters, o.Quarters[i])
	}
	return v
}

// campaignsReportView is the reports' index: every campaign that started.
type campaignsReportView struct {
	reportFmt
	Editions []report.Edition // newest first
}
