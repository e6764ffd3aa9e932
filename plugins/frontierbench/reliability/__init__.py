"""Decision-impact-on-reliability (DIoR) checks: families of draws, decisions, budget."""
