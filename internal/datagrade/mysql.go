package datagrade

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// NewMySQLSource returns a Source over a MySQL or MariaDB database given by
// a go-sql-driver DSN ("user:password@tcp(host:3306)/shop"); the DSN must
// name a database. The connection is made when Tables runs. Everything is
// read in one REPEATABLE READ, READ ONLY transaction; tables are discovered
// through information_schema.TABLES (base tables of the DSN's database).
//
// Row counts: information_schema's TABLE_ROWS (an estimate for InnoDB)
// when it exceeds ten times the budget's rows, otherwise COUNT(*).
// Sampling: MySQL has no TABLESAMPLE, so large tables are read with
// WHERE RAND() < p aimed at three times the budget (a scan that stops at
// the LIMIT), small ones from the start.
func NewMySQLSource(dsn string) (Source, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("datagrade: mysql DSN: %w", redactErr(err, dsn))
	}
	if cfg.DBName == "" {
		return nil, errors.New("datagrade: mysql DSN names no database (…/dbname)")
	}
	cfg.ParseTime = false // dates as text
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 60 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("datagrade: mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	return &sqlSource{
		db:      db,
		dialect: mysqlDialect{},
		txOpts:  &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		store:   mysqlStore(cfg),
	}, nil
}

// mysqlStore identifies a MySQL database without its credentials.
func mysqlStore(cfg *mysql.Config) Store {
	return Store{Kind: KindMySQL, UID: "mysql://" + cfg.Addr + "/" + cfg.DBName, Name: cfg.DBName, Type: "MySQL"}
}

type mysqlDialect struct{}

// mysqlIdent quotes a MySQL identifier.
func mysqlIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// mysqlTablesQuery lists the base tables of the connection's database with
// their TABLE_ROWS estimates.
const mysqlTablesQuery = "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, -1) FROM information_schema.TABLES " +
	"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"

func (mysqlDialect) tables(ctx context.Context, tx *sql.Tx) ([]sqlTable, error) {
	rows, err := tx.QueryContext(ctx, mysqlTablesQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlTable
	for rows.Next() {
		var t sqlTable
		if err := rows.Scan(&t.name, &t.estimate); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (mysqlDialect) count(t sqlTable, budget int) string {
	if t.estimate > 10*int64(budget) {
		return ""
	}
	return "SELECT COUNT(*) FROM " + mysqlIdent(t.name)
}

func (d mysqlDialect) sample(t sqlTable, n int) string {
	if t.estimate <= 10*int64(n) {
		return d.fallback(t, n)
	}
	p := min(1, 3*float64(n)/float64(t.estimate))
	return "SELECT * FROM " + mysqlIdent(t.name) + " WHERE RAND() < " + strconv.FormatFloat(p, 'f', 6, 64) + " LIMIT " + strconv.Itoa(n)
}

func (mysqlDialect) fallback(t sqlTable, n int) string {
	return "SELECT * FROM " + mysqlIdent(t.name) + " LIMIT " + strconv.Itoa(n)
}
