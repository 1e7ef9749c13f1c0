"""Watch mode: file-system events, the paths followed, one check-and-fix round per change."""
