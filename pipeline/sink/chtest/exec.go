package chtest

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func exec(ctx context.Context, addr, stmt string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Exec(ctx, stmt)
}
