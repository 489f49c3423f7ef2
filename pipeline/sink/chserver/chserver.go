// Package chserver runs a local clickhouse-server on loopback ports with its
// data in a folder of ours: what `commercesync dev` and the tests use when no
// server is given. It configures the server from scratch, so the Debian
// package's own configuration and service are never touched.
package chserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Binary is the server's executable, looked up on PATH and then where
// Debian's package puts it.
const Binary = "clickhouse-server"

// ErrNotInstalled says no clickhouse-server executable was found.
var ErrNotInstalled = errors.New("clickhouse-server is not installed (Debian: apt-get install -y clickhouse-server), and CLICKHOUSE_ADDR names no server")

// Server is a running clickhouse-server.
type Server struct {
	// Addr is the native protocol's host:port, HTTP the HTTP interface's.
	Addr, HTTP string
	dir        string
	cmd        *exec.Cmd
	done       chan error
}

type options struct {
	log     *slog.Logger
	timeout time.Duration
	native  int
}

// Option configures Start.
type Option func(*options)

// WithLogger logs the server's start and stop.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithNativePort serves the native protocol on port (default: a free
// one), so that clients find the server where they found it last time.
func WithNativePort(port int) Option { return func(o *options) { o.native = port } }

// WithStartTimeout bounds how long Start waits for the server to answer.
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Find returns the path of the server's executable.
func Find() (string, error) {
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/" + Binary, "/usr/bin/" + Binary} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Start runs a server with its data, logs and configuration under dir, on
// two free loopback ports, and waits until it answers. Stop ends it; so does
// the end of this process, for the server is tied to it.
func Start(ctx context.Context, dir string, opts ...Option) (*Server, error) {
	o := options{log: slog.New(slog.DiscardHandler), timeout: 60 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"data", "tmp", "user_files", "log", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("clickhouse folder: %w", err)
		}
	}
	// Another process may take a port between our probe and the server's
	// bind; a few attempts make that harmless.
	var last error
	for range 3 {
		s, err := start(ctx, bin, dir, o)
		if err == nil {
			return s, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func start(ctx context.Context, bin, dir string, o options) (*Server, error) {
	native := o.native
	if native == 0 {
		var err error
		if native, err = freePort(); err != nil {
			return nil, err
		}
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(cfg, []byte(config(dir, native, httpPort)), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse users: %w", err)
	}
	out, err := os.OpenFile(filepath.Join(dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("clickhouse log: %w", err)
	}
	cmd := exec.Command(bin, "--config-file="+cfg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(native)), HTTP: net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() {
		s.done <- cmd.Wait()
		out.Close()
	}()
	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := s.waitReady(wctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("clickhouse-server did not answer (its log: %s): %w", filepath.Join(dir, "log"), err)
	}
	o.log.Info("clickhouse-server started", "addr", s.Addr, "http", s.HTTP, "dir", dir)
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTP+"/ping", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("it exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Stop ends the server and waits for it, killing it after 30 seconds.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		return errors.New("clickhouse-server did not stop within 30s; killed")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// config is the server's whole configuration: loopback only, everything
// under dir, small caches (the server shares the machine with the
// pipeline).
func config(dir string, native, httpPort int) string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>%[1]s/log/clickhouse-server.log</log>
        <errorlog>%[1]s/log/clickhouse-server.err.log</errorlog>
        <size>100M</size><count>2</count>
    </logger>
    <http_port>%[3]d</http_port>
    <tcp_port>%[2]d</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>%[1]s/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
`, dir, native, httpPort)
}

const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><use_uncompressed_cache>0</use_uncompressed_cache><load_balancing>random</load_balancing></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`
