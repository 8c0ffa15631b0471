"""Realistic synthetic delivery packages (rongxin synth): what each provider would send."""
