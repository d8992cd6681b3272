"""Reading and writing documents: input resolution, atomic files, datatrove readers and writers."""
