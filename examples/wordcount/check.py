from wordcount import count_lines, count_words

assert count_words("one two  three") == 3, f"count_words gave {count_words('one two  three')}, expected 3"
assert count_lines("a\nb\nc") == 3, f"count_lines gave {count_lines('a' + chr(10) + 'b' + chr(10) + 'c')}, expected 3"
assert count_lines("") == 0
print("wordcount OK")
