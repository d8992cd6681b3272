"""SFT mix builder: CoT/PoT/TIR sources -> verified, decontaminated, weighted chat data; and the program sandbox."""
