package classify

// ContractJSON is the line `bulletin mailbox classify FILE.eml... --json`
// prints for each file. Its fields are a public contract (see DESIGN.md):
// extend it, never rename or remove a field.
type ContractJSON struct {
	// File is the path as given on the command line.
	File string `json:"file"`
	// Kind is one of hard, soft, delayed, complaint, autoreply,
	// unsubscribe, reply, unknown.
	Kind Kind `json:"kind"`
	// Recipients are the failed addresses, lower-cased; an empty array,
	// never null, when there are none.
	Recipients []string `json:"recipients"`
	// Status is the RFC 3463 code of the first failed recipient, or "".
	Status string `json:"status"`
	// Diagnostic is the relay's own words for the first recipient, or "".
	Diagnostic string `json:"diagnostic"`
}

// Contract returns the contract's JSON line for r, read from file.
func (r Result) Contract(file string) ContractJSON {
	return ContractJSON{
		File:       file,
		Kind:       r.Kind,
		Recipients: r.FailedAddresses(),
		Status:     r.Status,
		Diagnostic: r.Diagnostic,
	}
}
