"""Citizens without an account: the anonymous report path (rate-limited per IP and per phone) and the
secret status link through which the reporter follows the case (the 信息反馈 loop)."""
