try:
    from bp_tui.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still starting: no traceback for that
    raise SystemExit(130) from None

raise SystemExit(main())
