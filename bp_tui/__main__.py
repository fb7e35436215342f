from bp_tui.cli import main

raise SystemExit(main())
