package mailbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/emersion/go-imap/v2"

	"bulletin/internal/store"
)

// CheckReport is what one connection to the server showed, for an admin
// setting the watcher up (`bulletin mailbox check`).
type CheckReport struct {
	Capabilities []string
	IDLE         bool
	MOVE         bool
	Delimiter    string // the server's hierarchy delimiter
	Prefix       string // the personal namespace's prefix
	Mailbox      string
	Messages     uint32
	UIDValidity  uint32
	UIDNext      uint32
	// Folders maps each role (processed, replies, unparsed) to the server's
	// name and whether it exists; missing ones are created by the watcher.
	Folders []CheckFolder
	// Checkpoint is the store's, nil when the mailbox was never read.
	Checkpoint *store.MailboxCheckpoint
	// Pending is how many messages the watcher would read next.
	Pending int
}

// CheckFolder is one folder as the server knows it.
type CheckFolder struct {
	Role   string
	Name   string
	Exists bool
}

// Check connects and logs in once, and reports what the server offers and
// what the mailbox holds, changing nothing (the mailbox is examined
// read-only, no folder is created).
func (w *Watcher) Check(ctx context.Context) (*CheckReport, error) {
	c, err := w.connect(ctx, make(chan struct{}, 1))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	defer closeOnCancel(ctx, func() { c.Close() })()

	r := &CheckReport{Mailbox: w.opts.Mailbox}
	caps := c.Caps()
	for cp := range caps {
		r.Capabilities = append(r.Capabilities, string(cp))
	}
	sort.Strings(r.Capabilities)
	r.IDLE, r.MOVE = caps.Has(imap.CapIdle), caps.Has(imap.CapMove)

	err = w.bounded(c, "list", func() error {
		if caps.Has(imap.CapNamespace) {
			if ns, err := c.Namespace().Wait(); err == nil && len(ns.Personal) > 0 {
				r.Prefix = ns.Personal[0].Prefix
				if d := ns.Personal[0].Delim; d != 0 {
					r.Delimiter = string(d)
				}
			}
		}
		l, err := c.List("", "", nil).Collect()
		if err == nil && len(l) > 0 && l[0].Delim != 0 && r.Delimiter == "" {
			r.Delimiter = string(l[0].Delim)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var delim rune
	if r.Delimiter != "" {
		delim = []rune(r.Delimiter)[0]
	}
	for _, f := range []Folder{Processed, Replies, Unparsed} {
		name := serverName(w.opts.Folders.name(f), r.Prefix, delim)
		cf := CheckFolder{Role: f.String(), Name: name}
		err := w.bounded(c, "list "+name, func() error {
			l, err := c.List("", name, nil).Collect()
			for _, m := range l {
				if m.Mailbox == name && !slices.Contains(m.Attrs, imap.MailboxAttrNonExistent) {
					cf.Exists = true
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		r.Folders = append(r.Folders, cf)
	}

	var sel *imap.SelectData
	err = w.bounded(c, "examine "+w.opts.Mailbox, func() (err error) {
		sel, err = c.Select(w.opts.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	r.Messages, r.UIDValidity, r.UIDNext = sel.NumMessages, sel.UIDValidity, uint32(sel.UIDNext)

	var last uint32
	cp, err := w.proc.store.LoadMailboxCheckpoint(ctx, w.opts.Mailbox)
	switch {
	case err == nil:
		r.Checkpoint = cp
		if cp.UIDValidity == r.UIDValidity {
			last = cp.LastUID
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: imap.UID(last + 1), Stop: 0}}}}
	if !r.MOVE {
		criteria.NotFlag = []imap.Flag{Keyword}
	}
	err = w.bounded(c, "search", func() error {
		data, err := c.UIDSearch(criteria, nil).Wait()
		if err != nil {
			return err
		}
		for _, u := range data.AllUIDs() {
			if uint32(u) > last {
				r.Pending++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	c.Logout().Wait()
	return r, nil
}
