"""cxtext: Persian and English voice-of-customer analytics ranked by lifetime value at risk."""
