// Package pgtest gives tests a PostgreSQL database of their own: in the
// server BULLETIN_TEST_POSTGRES_DSN names, or else in a cluster that it
// starts on loopback in a temporary folder (Debian's initdb and pg_ctl),
// once per test process. Without either, a test skips, or fails when
// BULLETIN_INTEGRATION=required (CI must run them all).
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create databases
)

var (
	once    sync.Once
	server  string // the connection string of the server's "postgres" database
	cluster string // the folder of the cluster this process started, if any
	failure error
	count   atomic.Int64
)

// Main runs the tests of m and stops the cluster they started. A package
// whose tests use DSN calls it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != "" {
		pgCtl("stop", "-D", filepath.Join(cluster, "data"), "-m", "immediate").Run()
		os.RemoveAll(cluster)
	}
	return code
}

// DSN returns the connection string of a new, empty database, dropped when
// the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { server, failure = start() })
	if failure != nil {
		if os.Getenv("BULLETIN_INTEGRATION") == "required" {
			t.Fatalf("PostgreSQL: %v", failure)
		}
		t.Skipf("PostgreSQL: %v", failure)
	}
	name := fmt.Sprintf("bulletin_test_%d_%d", os.Getpid(), count.Add(1))
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("PostgreSQL: create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// start returns the server to create databases in: the one the
// environment names, or a cluster started here.
func start() (string, error) {
	if dsn := os.Getenv("BULLETIN_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn, ping(dsn)
	}
	bin, err := binDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "bulletin-pg-")
	if err != nil {
		return "", err
	}
	cluster = dir
	// PostgreSQL refuses to run as root: as root, the cluster is the
	// postgres user's, which Debian's package creates.
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
		runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	pgBin = bin
	data := filepath.Join(dir, "data")
	if out, err := command("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200", port, dir)
	if out, err := pgCtl("start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("pg_ctl start: %v: %s%s", err, out, log)
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return dsn, ping(dsn)
}

var (
	pgBin string   // the folder of initdb and pg_ctl
	runAs []string // the command that runs them as the postgres user, as root
)

func command(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, runAs...), filepath.Join(pgBin, name)), args...)
	return exec.Command(argv[0], argv[1:]...)
}

func pgCtl(args ...string) *exec.Cmd { return command("pg_ctl", args...) }

// binDir finds the newest PostgreSQL installed the Debian way.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", fmt.Errorf("no initdb (install Debian's postgresql package, or set BULLETIN_TEST_POSTGRES_DSN)")
	}
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	return filepath.Dir(found[len(found)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// StoreEnv names the store the tests of a package that calls Both run on:
// "postgres", or unset for SQLite.
const StoreEnv = "BULLETIN_TEST_STORE"

// Both runs the tests of m on SQLite, then runs them again on PostgreSQL,
// in a child process of the same test binary with StoreEnv=postgres. The
// tests choose their store with Location.
func Both(m *testing.M) int {
	code := Main(m)
	if os.Getenv(StoreEnv) != "" {
		return code
	}
	fmt.Println("pgtest: the same tests again on PostgreSQL")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), StoreEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: on PostgreSQL: %v\n", err)
		code = max(code, 1)
	}
	return code
}

// Postgres reports whether this run of the tests is the one on PostgreSQL.
func Postgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// Location returns where a test's store lives, for store.Open: a new
// PostgreSQL database in the run on PostgreSQL, else a file in a new
// temporary folder.
func Location(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return DSN(t)
	}
	return filepath.Join(t.TempDir(), "data", "bulletin.db")
}
