"""What belongs to the member on the sheets a refresh writes: the rules both writers apply (pure; no
xlwings, no zip)."""
