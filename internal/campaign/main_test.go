package campaign

import (
	"os"
	"testing"

	"bulletin/internal/store/pgtest"
)

// The engine's tests run twice: on SQLite, then on PostgreSQL (see
// pgtest.Both); TestMain also stops the cluster they started.
func TestMain(m *testing.M) { os.Exit(pgtest.Both(m)) }
