package sandboxkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr ("127.0.0.1:0" for any free port) and serves h in
// the background. It returns the base URL ("http://host:port") and a
// function that shuts the server down. name labels the log line written if
// the server stops for any reason other than that shutdown, since the
// caller has no other way to learn of it.
func Serve(addr string, h http.Handler, log *slog.Logger, name string) (baseURL string, shutdown func(context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	// ReadHeaderTimeout keeps a stuck client from holding a connection
	// open forever (and satisfies gosec's Slowloris check).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" sandbox stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), srv.Shutdown, nil
}
