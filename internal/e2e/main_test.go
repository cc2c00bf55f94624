package e2e

import (
	"os"
	"testing"

	"bulletin/internal/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests started, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
