"""What people see: every output of ship is a sink of the one event stream.

Kept import-light on purpose, because `ship --help` imports the CLI and the CLI imports
this package: rich's live display, httpx and the rest load only inside the modules and
functions that draw or send something.

- `factory.build_sinks`: the sinks of one run (console, JSON lines, GitHub, Slack).
- `factory.render_plan`, `render_status`, `render_history`, `render_release`:
  one-shot renderings for `ship deploy --dry-run`, `ship status` and `ship history`.
- `confirm.confirm`: the production prompt, only ever asked of a person.

Where text goes: in human mode everything goes to stdout; with `--output json` stdout
carries only JSON and the human text (live view, summary, GitHub workflow commands)
goes to stderr.
"""
