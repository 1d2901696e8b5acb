# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_warp_offload_global_optspecs
    string join \n q/quiet v/verbose log-format= progress= stats-interval= allow-insecure-http work-dir= h/help V/version
end

function __fish_warp_offload_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_warp_offload_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_warp_offload_using_subcommand
    set -l cmd (__fish_warp_offload_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c warp-offload -n "__fish_warp_offload_needs_command" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_needs_command" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_needs_command" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_needs_command" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_needs_command" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "plan" -d 'Turn selectors and a time range into segments (one NDJSON record each)'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "fetch" -d 'Fetch each segment from Warp 10, check it strictly and spool it to the work directory'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "compress" -d 'Encode each fetched segment into an archive, decode it again and check it against the fetch'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "verify" -d 'Check archives (local, or uploaded: read back) against what fetch recorded'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "cat" -d 'Print an archive as Warp 10 text on stdout, from a file or a destination'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "notify" -d 'Post a run summary to Slack and/or a JSON webhook; records pass through unchanged'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "upload" -d 'Upload archives, then their manifest objects (written last: the commit markers)'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "purge" -d 'Delete archived segments from Warp 10, after proving the archive equals the source'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "all" -d 'The whole chain in one process: plan, fetch, compress, verify, upload, verify, [purge, notify]'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "ls" -d 'List the segments archived in a destination (NDJSON, read from the manifest objects)'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "query" -d 'Print archived points of the series matching a selector, read straight from a destination'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "serve" -d 'Answer Warp 10\'s /api/v0/fetch and /api/v0/find over a destination\'s archives (read-only)'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "restore" -d 'Put archived segments back into Warp 10, then check that every point came back'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "fake-warp10" -d 'Serve an in-memory Warp 10 for demos, tests and benchmarks'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "gen-docs" -d 'Write man pages and shell completions generated from these definitions'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "bench-codec" -d 'Measure a codec on a file of Warp 10 text: size, encode and decode CPU time'
complete -c warp-offload -n "__fish_warp_offload_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l warp10-url -d 'Warp 10 base URL (no token in it); tokens and deletes go only here' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l selector -d 'Warp 10 selector, e.g. \'~os\\..*{dc=par1}\' (repeatable; each gets its own segments)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l start -d 'Start of the range: RFC 3339, now or now-30d; rounded down to a segment boundary' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l end -d 'End of the range (exclusive): RFC 3339, now or now-30d; rounded down to a segment boundary' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l split-by -d 'Split segments per class or per series found with /api/v0/find' -r -f -a "none\t'One segment per selector and window'
class\t'One segment per class matched by the selector (via /api/v0/find)'
series\t'One segment per series matched by the selector (via /api/v0/find)'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l min-age -d 'Refuse windows that end less than this long ago (late writes may still arrive)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l time-unit -d 'Platform time unit of the Warp 10 instance (warp.timeunits)' -r -f -a "ms\t''
us\t''
ns\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l max-clock-skew -d 'Stop if the local clock and Warp 10\'s (its Date header) differ by more than this' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l segment-length -d 'Segment length: 1h, 6h, 1d, 7d, ... (windows are aligned to multiples of it in UTC)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l read-token-file -d 'File holding the Warp 10 read token (needed by --split-by); or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l retries -d 'Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l timeout -d 'Seconds allowed to connect, to send a request, to receive the response headers, and for each read of a response body; also the window --min-rate is measured over' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l min-rate -d 'Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or trickling server fails in bounded time. An update may take --timeout plus its size at this rate. 0 turns the check off' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand plan" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l warp10-url -d 'Warp 10 to fetch from; a segment planned against another is refused (tokens go only here)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l read-token-file -d 'File holding the Warp 10 read token; or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l jobs -d 'Segments fetched concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l retries -d 'Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l timeout -d 'Seconds allowed to connect, to send a request, to receive the response headers, and for each read of a response body; also the window --min-rate is measured over' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l min-rate -d 'Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or trickling server fails in bounded time. An update may take --timeout plus its size at this rate. 0 turns the check off' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l force -d 'Fetch again segments that were already fetched'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l codec -d 'Archive format' -r -f -a "columnar\t'warp-offload\'s columnar format: smallest, needs warp-offload to read'
gts.zst\t'Warp 10 text compressed with zstd: larger, restorable with `zstd -d | curl`'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l level -d 'zstd level (1-19; 3 is the sweet spot, higher levels buy ~3 % for many times the CPU)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l jobs -d 'Segments compressed concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l key-file -d 'Encrypt archives with the master key in this file (32 bytes, raw or hex)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l force -d 'Compress again segments that already have an archive'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l remove-spool -d 'Delete the spooled fetch once its archive is written and checked'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand compress" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l key-file -d 'Master key file for encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l jobs -d 'Segments verified concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand verify" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l dest -d 'Read the archive from this destination: s3://bucket/prefix, file:///dir or a directory path' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l segment -d 'Segment id: with --dest and no key, the committed segment to print; otherwise the segment the archive belongs to (default: its file name without extension), as encrypted archives are bound to it' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l format -r -f -a "text\t'Class and labels on the first line of a series, `=` lines after (Warp 10 `text`)'
fulltext\t'Class and labels on every line (Warp 10 `fulltext`)'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l key-file -d 'Master key file for encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand cat" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l slack-webhook-file -d 'File holding the Slack incoming-webhook URL; or set SLACK_WEBHOOK_URL' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l webhook-file -d 'File holding a JSON webhook URL; or set WARP_OFFLOAD_WEBHOOK_URL' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l notify-on -d 'When to post' -r -f -a "failure\t'Only when a segment failed or the records could not all be read'
always\t'After every run'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l manifest-hint -d 'The file this run\'s records are saved to, read by the retry commands [default: the file stdout is redirected to]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l timeout -d 'Seconds allowed per webhook request (a failed request is retried once)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -s n -l dry-run -d 'Print the payloads on stderr instead of posting them'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand notify" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l dest -d 'Destination: s3://bucket/prefix, file:///dir or a directory path' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l jobs -d 'Segments uploaded concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l force -d 'Upload again, and replace an object whose content differs from the archive'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -s n -l dry-run -d 'Print what would be uploaded; write nothing'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand upload" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l warp10-url -d 'Warp 10 to purge; a segment planned against another is refused (tokens and deletes go only here)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l dest -d 'Destination the segments were uploaded to (the archives are read back from it)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l read-token-file -d 'File holding the Warp 10 read token (fetch, checks); or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l write-token-file -d 'File holding the Warp 10 write token (delete); or set WARP10_WRITE_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l key-file -d 'Key file of encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l max-delete-points -d 'Most points this run may delete, over all segments' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l max-delete-series -d 'Most series this run may delete from, over all segments' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l settle-timeout -d 'Seconds to wait for the range to read back empty after the delete' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l lock-ttl -d 'How long a segment lock lives without renewal (a crashed run\'s lock expires after it)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l lock-settle-ms -d 'Milliseconds to wait after writing a lock before reading it back (the store has no conditional writes; whoever wrote last holds the lock)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l jobs -d 'Segments purged concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l max-clock-skew -d 'Stop if the local clock and Warp 10\'s (its Date header) differ by more than this' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l retries -d 'Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l timeout -d 'Seconds allowed to connect, to send a request, to receive the response headers, and for each read of a response body; also the window --min-rate is measured over' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l min-rate -d 'Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or trickling server fails in bounded time. An update may take --timeout plus its size at this rate. 0 turns the check off' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -s n -l dry-run -d 'Write nothing anywhere, delete nothing: say what would be done (each purge gate is checked and what would be deleted is listed)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand purge" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l warp10-url -d 'Warp 10 base URL (no token in it); tokens and deletes go only here' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l selector -d 'Warp 10 selector, e.g. \'~os\\..*{dc=par1}\' (repeatable; each gets its own segments)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l start -d 'Start of the range: RFC 3339, now or now-30d; rounded down to a segment boundary' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l end -d 'End of the range (exclusive): RFC 3339, now or now-30d; rounded down to a segment boundary' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l split-by -d 'Split segments per class or per series found with /api/v0/find' -r -f -a "none\t'One segment per selector and window'
class\t'One segment per class matched by the selector (via /api/v0/find)'
series\t'One segment per series matched by the selector (via /api/v0/find)'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l min-age -d 'Refuse windows that end less than this long ago (late writes may still arrive)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l time-unit -d 'Platform time unit of the Warp 10 instance (warp.timeunits)' -r -f -a "ms\t''
us\t''
ns\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l max-clock-skew -d 'Stop if the local clock and Warp 10\'s (its Date header) differ by more than this' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l read-token-file -d 'File holding the Warp 10 read token (fetch, checks); or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l write-token-file -d 'File holding the Warp 10 write token (delete); or set WARP10_WRITE_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l slack-webhook-file -d 'File holding the Slack incoming-webhook URL; or set SLACK_WEBHOOK_URL' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l webhook-file -d 'File holding a JSON webhook URL; or set WARP_OFFLOAD_WEBHOOK_URL' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l segment-length -d 'Segment length: 1h, 6h, 1d, 7d, ... (windows are aligned to multiples of it in UTC)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l segment -d 'Run only the segment with this id (repeatable)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l dest -d 'Destination: s3://bucket/prefix, file:///dir or a directory' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l codec -d 'Archive codec' -r -f -a "columnar\t'warp-offload\'s columnar format: smallest, needs warp-offload to read'
gts.zst\t'Warp 10 text compressed with zstd: larger, restorable with `zstd -d | curl`'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l level -d 'zstd level' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l key-file -d 'Encrypt archives with the 32-byte key in this file' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l jobs -d 'Segments fetched, encoded or purged at once; as many more may be uploading or read back' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l max-delete-points -d 'Most points this run may delete, over all segments' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l max-delete-series -d 'Most series this run may delete from, over all segments' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l settle-timeout -d 'Seconds to wait for the range to read back empty after the delete' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l lock-ttl -d 'How long a segment lock lives without renewal (a crashed run\'s lock expires after it)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l lock-settle-ms -d 'Milliseconds to wait after writing a lock before reading it back (the store has no conditional writes; whoever wrote last holds the lock)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l notify-on -d 'With --notify: when to post' -r -f -a "failure\t'Only when a segment failed or the records could not all be read'
always\t'After every run'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l retries -d 'Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l timeout -d 'Seconds allowed to connect, to send a request, to receive the response headers, and for each read of a response body; also the window --min-rate is measured over' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l min-rate -d 'Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or trickling server fails in bounded time. An update may take --timeout plus its size at this rate. 0 turns the check off' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l force -d 'Start every segment over from the fetch, ignoring the work directory\'s state and the destination\'s manifest objects (an archive whose segment was purged is never replaced)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l purge -d 'Purge each segment from Warp 10 once its archive is verified in the destination'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -s n -l dry-run -d 'Write nothing anywhere, delete nothing: say what would be done (each purge gate is checked and what would be deleted is listed)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l notify -d 'Post the run summary (see `notify`) when the run ends'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand all" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l dest -d 'Destination: s3://bucket/prefix, file:///dir or a directory path' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l all -d 'Also list incomplete uploads (objects without a manifest object)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand ls" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l dest -d 'Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l selector -d 'Warp 10 selector: class{labels}, =exact or ~regex (full match); .app/.owner/.producer constraints are ignored, as fetch does' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l start -d 'Start of the window (RFC 3339, now or now-30d)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l end -d 'End of the window, exclusive' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l format -r -f -a "text\t'Class and labels on the first line of a series, `=` lines after (Warp 10 `text`)'
fulltext\t'Class and labels on every line (Warp 10 `fulltext`)'
json\t'Warp 10\'s fetch JSON: one object per series with its points under "v"'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l key-file -d 'Master key file for encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l max-points -d 'Most points one query holds in memory; beyond it the query fails before printing' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand query" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l dest -d 'Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l listen -d 'Address to listen on (loopback unless --behind-tls-proxy)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l read-token-file -d 'File holding the read token clients must present; or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l key-file -d 'Master key file for encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l max-points -d 'Most points one request holds in memory; beyond it the request gets a 500' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l behind-tls-proxy -d 'Accept a --listen address other than loopback: only behind a TLS-terminating proxy'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand serve" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l dest -d 'Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l segment -d 'Segment to restore, whole (repeatable); - reads ids from stdin, one a line: bare, or the JSON lines of `ls` or of records' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l selector -d 'Restore only the archived series matching this selector, from every segment overlapping --start/--end' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l start -d 'Start of the window to restore (RFC 3339, now or now-30d)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l end -d 'End of the window to restore, exclusive' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l warp10-url -d 'Warp 10 to write to (never taken from the archive\'s records)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l write-token-file -d 'File holding the Warp 10 write token; or set WARP10_WRITE_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l read-token-file -d 'File holding the Warp 10 read token (for the check); or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l key-file -d 'Master key file for encrypted archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l max-body -d 'Largest request body sent to /api/v0/update (each starts with a full line)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l jobs -d 'Segments restored concurrently' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l retries -d 'Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l timeout -d 'Seconds allowed to connect, to send a request, to receive the response headers, and for each read of a response body; also the window --min-rate is measured over' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l min-rate -d 'Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or trickling server fails in bounded time. An update may take --timeout plus its size at this rate. 0 turns the check off' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l s3-endpoint -d 'S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile\'s endpoint_url in ~/.aws/config, then AWS]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l s3-profile -d 'Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l s3-addressing -d 'Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere' -r -f -a "auto\t''
path\t''
virtual\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l part-size -d 'Multipart part size (at least 5MiB); smaller objects go in one PUT' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l s3-retries -d 'Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l s3-timeout -d 'Seconds before an S3 request is abandoned' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l ca-cert -d 'PEM file of CA certificates to trust for the S3 endpoint, besides the public and system ones (sets SSL_CERT_FILE for this process)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -s n -l dry-run -d 'Decode and count, print what would be sent; send nothing'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand restore" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l listen -d 'Address to listen on (port 0 picks a free port)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l port-file -d 'Write the port to this file (atomically) once listening' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l read-token-file -d 'File holding the read token; or set WARP10_READ_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l write-token-file -d 'File holding the write token; or set WARP10_WRITE_TOKEN' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l app -d 'Application name of the write token (the .app label of everything written)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l time-unit -d 'Platform time unit (warp.timeunits)' -r -f -a "ms\t''
us\t''
ns\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l load -d 'Load GTS input lines (the /api/v0/update format) from this file (repeatable)' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l generate -d 'Generate a synthetic data set' -r -f -a "infra\t'Realistic infrastructure metrics (data profile D1)'
tsbs-cpu\t'TSBS devops cpu-only'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l seed -d 'Seed of the generator (same seed, same data)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l hosts -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l series-per-host -d 'Series per host: the first N of the profile\'s 10' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l days -d 'Days of data per series (fractions allowed)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l interval -d 'Sampling interval: 10s, 1m, ...' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l start -d 'First sample time (RFC 3339)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l faults -d 'Faults to inject from the start, as JSON (see below)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand fake-warp10" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l man-dir -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l completions-dir -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -s h -l help -d 'Print help'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand gen-docs" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l codec -r -f -a "columnar\t'warp-offload\'s columnar format: smallest, needs warp-offload to read'
gts.zst\t'Warp 10 text compressed with zstd: larger, restorable with `zstd -d | curl`'"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l level -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l repeat -d 'Runs of each measured step; the median CPU time is reported' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l log-format -d 'Format of log lines on stderr' -r -f -a "text\t''
json\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l progress -d 'Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal and prints a one-line status every --stats-interval elsewhere (a file, a pipe)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l stats-interval -d 'With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)' -r
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l work-dir -d 'Work directory for spooled fetches and local archives' -r -F
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l best -d 'Report the fastest run instead of the median: on a shared machine, the run least slowed by others (to compare two builds, alternate them)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -s q -l quiet -d 'Only print errors on stderr'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -s v -l verbose -d 'More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -l allow-insecure-http -d 'Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys and webhook URLs would travel in clear'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand bench-codec" -s V -l version -d 'Print version'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "plan" -d 'Turn selectors and a time range into segments (one NDJSON record each)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "fetch" -d 'Fetch each segment from Warp 10, check it strictly and spool it to the work directory'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "compress" -d 'Encode each fetched segment into an archive, decode it again and check it against the fetch'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "verify" -d 'Check archives (local, or uploaded: read back) against what fetch recorded'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "cat" -d 'Print an archive as Warp 10 text on stdout, from a file or a destination'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "notify" -d 'Post a run summary to Slack and/or a JSON webhook; records pass through unchanged'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "upload" -d 'Upload archives, then their manifest objects (written last: the commit markers)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "purge" -d 'Delete archived segments from Warp 10, after proving the archive equals the source'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "all" -d 'The whole chain in one process: plan, fetch, compress, verify, upload, verify, [purge, notify]'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "ls" -d 'List the segments archived in a destination (NDJSON, read from the manifest objects)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "query" -d 'Print archived points of the series matching a selector, read straight from a destination'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "serve" -d 'Answer Warp 10\'s /api/v0/fetch and /api/v0/find over a destination\'s archives (read-only)'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "restore" -d 'Put archived segments back into Warp 10, then check that every point came back'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "fake-warp10" -d 'Serve an in-memory Warp 10 for demos, tests and benchmarks'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "gen-docs" -d 'Write man pages and shell completions generated from these definitions'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "bench-codec" -d 'Measure a codec on a file of Warp 10 text: size, encode and decode CPU time'
complete -c warp-offload -n "__fish_warp_offload_using_subcommand help; and not __fish_seen_subcommand_from plan fetch compress verify cat notify upload purge all ls query serve restore fake-warp10 gen-docs bench-codec help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
