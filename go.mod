module github.com/inwriting/inwriting

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/emersion/go-imap/v2 v2.0.0-beta.8
	github.com/emersion/go-message v0.18.2
	github.com/emersion/go-msgauth v0.7.0
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.25.1
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/wneessen/go-mail v0.8.1
	golang.org/x/net v0.56.0
	golang.org/x/text v0.40.0
)

require golang.org/x/crypto v0.54.0 // indirect
