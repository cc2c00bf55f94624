package mailbox

import (
	"strings"

	"bulletin/internal/classify"
)

// Folder is where a message goes once its event is recorded.
type Folder int

// The folders a message can go to.
const (
	// Processed holds what Bulletin read and acted on or needed nothing
	// for: bounces, delays, complaints, unsubscribe requests, auto-replies.
	Processed Folder = iota
	// Replies holds what a person wrote, for the staff to answer.
	Replies
	// Unparsed holds what could not be read or recognised, for a person
	// to look at (invariant 4: kept aside and reported).
	Unparsed
)

// String returns the folder's role, as in the imap.*_folder keys.
func (f Folder) String() string {
	switch f {
	case Replies:
		return "replies"
	case Unparsed:
		return "unparsed"
	}
	return "processed"
}

// Folders are the names of the folders, as configured (imap.processed_folder
// and the like), with "/" between levels whatever the server's own
// hierarchy delimiter.
type Folders struct {
	Processed string
	Replies   string
	Unparsed  string
}

func (fs Folders) name(f Folder) string {
	switch f {
	case Replies:
		return fs.Replies
	case Unparsed:
		return fs.Unparsed
	}
	return fs.Processed
}

// folderFor says where a message of this kind and reason goes. Auto-replies
// go with the processed messages: after each edition they come by the
// hundred and would bury the replies people wrote. A success notification
// is understood and needs nothing; any other unknown message is kept aside.
func folderFor(kind, reason string) Folder {
	switch classify.Kind(kind) {
	case classify.Reply:
		return Replies
	case classify.Unknown:
		if reason == classify.ReasonDelivered {
			return Processed
		}
		return Unparsed
	}
	return Processed
}

// serverName turns a configured folder name into the server's: "/" becomes
// the server's hierarchy delimiter ("Bulletin/Traités" is "Bulletin.Traités"
// on a Maildir++ server), and the personal namespace's prefix ("INBOX." on
// Courier and some Dovecot setups) is added when the name lacks it.
// go-imap encodes the result in modified UTF-7 itself.
func serverName(name, prefix string, delim rune) string {
	if delim != 0 && delim != '/' {
		name = strings.ReplaceAll(name, "/", string(delim))
	}
	if prefix == "" || strings.HasPrefix(name, prefix) || strings.EqualFold(name, "INBOX") {
		return name
	}
	if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
		return name
	}
	return prefix + name
}
