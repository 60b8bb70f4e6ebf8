package directory

import (
	"bufio"
	"errors"
	"io"
)

// scanner cuts JSON values from a stream without decoding them: the directory is read one entry
// at a time, and only the entry in hand is in memory (in buf, reused).
type scanner struct {
	r   *bufio.Reader
	buf []byte
}

var errShort = errors.New("it ends in the middle")

func short(err error) error {
	if errors.Is(err, io.EOF) {
		return errShort
	}
	return err
}

// space returns the next byte that is not white space.
func (s *scanner) space() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, short(err)
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// object reads the document's one object, handing each member's key and first byte to f, which
// reads the value; only white space may follow the object.
func (s *scanner) object(f func(key string, c byte) error) error {
	c, err := s.space()
	if err != nil || c != '{' {
		return errors.New("it is not a JSON object")
	}
	if c, err = s.space(); err == nil && c == '}' {
		return s.end()
	}
	for err == nil {
		if c != '"' {
			return errors.New("a key is not a string")
		}
		s.buf = append(s.buf[:0], c)
		if err = s.str(); err != nil {
			return err
		}
		key, ok := str(s.buf)
		if !ok {
			return errors.New("a key is not a string")
		}
		if c, err = s.space(); err != nil || c != ':' {
			return errors.New("a key has no value")
		}
		if c, err = s.space(); err != nil {
			return err
		}
		if err = f(key, c); err != nil {
			return err
		}
		switch c, err = s.space(); {
		case err != nil:
		case c == ',':
			c, err = s.space()
		case c == '}':
			return s.end()
		default:
			return errors.New("members are not separated by commas")
		}
	}
	return err
}

// end checks that nothing but white space follows the document.
func (s *scanner) end() error {
	if _, err := s.space(); err != errShort {
		return errors.New("something follows the object")
	}
	return nil
}

// elements reads the array whose '[' was read, handing each element to f. The slice f gets is
// valid until f returns.
func (s *scanner) elements(f func(v []byte)) error {
	c, err := s.space()
	if err == nil && c == ']' {
		return nil
	}
	for err == nil {
		var v []byte
		if v, err = s.value(c); err != nil {
			return err
		}
		f(v)
		switch c, err = s.space(); {
		case err != nil:
		case c == ',':
			c, err = s.space()
		case c == ']':
			return nil
		default:
			return errors.New("elements are not separated by commas")
		}
	}
	return err
}

// value reads the value whose first byte c was read, into s.buf.
func (s *scanner) value(c byte) ([]byte, error) {
	s.buf = append(s.buf[:0], c)
	switch c {
	case '"':
		return s.buf, s.str()
	case '{', '[':
		for depth := 1; depth > 0; {
			c, err := s.r.ReadByte()
			if err != nil {
				return nil, short(err)
			}
			s.buf = append(s.buf, c)
			switch c {
			case '"':
				if err := s.str(); err != nil {
					return nil, err
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		return s.buf, nil
	case ',', ':', '}', ']':
		return nil, errors.New("a value is missing")
	}
	for { // a number or a literal, up to a delimiter
		b, err := s.r.Peek(1)
		if err == io.EOF || err == nil && (b[0] == ',' || b[0] == '}' || b[0] == ']' || b[0] <= ' ') {
			return s.buf, nil
		}
		if err != nil {
			return nil, err
		}
		s.r.ReadByte()
		s.buf = append(s.buf, b[0])
	}
}

// str reads the rest of a string whose opening quote ends s.buf: up to a quote that an even
// number of backslashes precede.
func (s *scanner) str() error {
	for {
		chunk, err := s.r.ReadSlice('"')
		s.buf = append(s.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return short(err)
		}
		slashes := 0
		for i := len(s.buf) - 2; s.buf[i] == '\\'; i-- {
			slashes++
		}
		if slashes%2 == 0 {
			return nil
		}
	}
}
