Attribute VB_Name = "PelotonTable"
' =PELOTON_METRIC where Python cannot answer: Excel for Mac has no Python worksheet functions, so
' there the wrapper (xlwings_udfs) calls MetricFromTable, which reads this workbook's own Metrics
' table. Same arguments and the same error values as the Python side (pelotonxl/excel/functions.py):
' a Workout ID, a date or date-time, "latest" or "latest ride" (run, row, walk, or a discipline's name);
' a metric slug or its name, any case;
' #VALUE! for an argument that is none of those, #N/A for a workout or metric that is not there.
' Built from workbook/vba/PelotonTable.bas by `python -m pelotonxl.template.build`: edit that file.
Option Explicit

Private Const ERR_NA As Long = 2042     ' xlErrNA
Private Const ERR_VALUE As Long = 2015  ' xlErrValue
Private Const TABLE_NAME As String = "Metrics"
Private Const LAST_SERIAL As Double = 2958466  ' 10000-01-01: past Excel's last date

Public Function MetricFromTable(ByVal workout As Variant, ByVal metric As Variant) As Variant
    Dim table As ListObject, headers As Variant
    Dim idCol As Long, startCol As Long, kindCol As Long, row As Long, col As Long
    Dim wanted As String, value As Variant

    MetricFromTable = CVErr(ERR_NA)
    If IsObject(workout) Then workout = workout.Cells(1, 1).Value2
    If IsObject(metric) Then metric = metric.Cells(1, 1).Value2
    On Error GoTo notThere ' a cell that is not text: no answer
    Set table = MetricsTable()
    If table Is Nothing Then Exit Function ' no Metrics table
    If table.DataBodyRange Is Nothing Then Exit Function
    headers = RowValues(table.HeaderRowRange)
    idCol = HeaderColumn(headers, "Workout ID")
    startCol = HeaderColumn(headers, "Start")
    kindCol = HeaderColumn(headers, "Discipline")
    If idCol = 0 Or startCol = 0 Then Exit Function

    row = WorkoutRow(table, idCol, startCol, kindCol, workout)
    If row < 0 Then
        MetricFromTable = CVErr(ERR_VALUE)
        Exit Function
    End If
    If row = 0 Then Exit Function

    ' Headers read "Avg Output (watts)": a slug or a name, with or without the unit, finds them.
    wanted = SlugAsName(NameKey(CStr(metric)))
    For col = 1 To UBound(headers, 2)
        If col <> idCol And col <> startCol And col <> kindCol Then
            If NameKey(CStr(headers(1, col))) = wanted Or _
               NameKey(WithoutUnit(CStr(headers(1, col)))) = wanted Then
                value = table.DataBodyRange.Cells(row, col).Value2
                ' Numbers only, as from Python: an empty cell (a bike's miles on a rower's row) is no answer.
                If VarType(value) <> vbString And Not IsEmpty(value) And IsNumeric(value) Then
                    MetricFromTable = CDbl(value)
                    Exit Function
                End If
            End If
        End If
    Next col
    Exit Function ' #N/A: an unknown metric, or one this workout lacks
notThere:
    MetricFromTable = CVErr(ERR_NA)
End Function

' The Metrics table on whichever sheet holds it (the member may rename or move that sheet, as the
' refresh allows); Nothing when the workbook has none.
Private Function MetricsTable() As ListObject
    Dim sheet As Worksheet, candidate As ListObject
    For Each sheet In ThisWorkbook.Worksheets
        For Each candidate In sheet.ListObjects
            If StrComp(candidate.Name, TABLE_NAME, vbTextCompare) = 0 Then
                Set MetricsTable = candidate
                Exit Function
            End If
        Next candidate
    Next sheet
End Function

' The table row (1 = first data row) of the workout asked for; 0 when there is none, -1 when the
' argument is not a Workout ID, a date, "latest" or "latest <kind>".
Private Function WorkoutRow(ByVal table As ListObject, ByVal idCol As Long, ByVal startCol As Long, _
                            ByVal kindCol As Long, ByVal workout As Variant) As Long
    Dim text As String, ids As Variant, starts As Variant, r As Long, target As Double, kind As String

    Select Case VarType(workout)
        Case vbString
            text = LCase$(Trim$(workout))
            If text = "latest" Then
                WorkoutRow = LatestRow(ColumnValues(table, startCol), -1)
                Exit Function
            End If
            If Left$(text, 7) = "latest " Then
                kind = DisciplineKey(Trim$(Mid$(text, 8)))
                If kind = "" Then
                    WorkoutRow = -1
                ElseIf kindCol > 0 Then
                    WorkoutRow = LatestOfKind(ColumnValues(table, startCol), ColumnValues(table, kindCol), kind)
                End If
                Exit Function
            End If
            If IsWorkoutId(text) Then
                ids = ColumnValues(table, idCol)
                For r = 1 To UBound(ids, 1)
                    If LCase$(Trim$(CStr(ids(r, 1)))) = text Then
                        WorkoutRow = r
                        Exit Function
                    End If
                Next r
                Exit Function
            End If
            If text Like "####-##-##t*" Then text = Replace(text, "t", " ", 1, 1) ' ISO 8601, as Python reads it
            If Not IsDate(text) Then
                WorkoutRow = -1
                Exit Function
            End If
            target = CDbl(CDate(text))
        Case vbDate, vbDouble, vbSingle, vbInteger, vbLong, vbCurrency, vbDecimal
            target = CDbl(workout)
            If target <= 0 Or target >= LAST_SERIAL Then
                WorkoutRow = -1
                Exit Function
            End If
        Case Else ' empty, TRUE/FALSE, an error value
            WorkoutRow = -1
            Exit Function
    End Select

    starts = ColumnValues(table, startCol)
    ' A date-time: the workout that started in that minute; a bare date: the latest that day.
    WorkoutRow = LatestRow(starts, target, True)
    If WorkoutRow = 0 And target = Int(target) Then WorkoutRow = LatestRow(starts, target, False)
End Function

' The row of the latest start: of all (onDay < 0), of those within a minute of onDay (sameMinute),
' or of those on onDay's date.
Private Function LatestRow(ByVal starts As Variant, ByVal onDay As Double, _
                           Optional ByVal sameMinute As Boolean = False) As Long
    Dim r As Long, start As Double, best As Double, found As Boolean
    For r = 1 To UBound(starts, 1)
        If VarType(starts(r, 1)) = vbDouble Or VarType(starts(r, 1)) = vbDate Then
            start = CDbl(starts(r, 1))
            If onDay < 0 Then
                found = True
            ElseIf sameMinute Then
                found = Abs(start - onDay) * 1440# < 1
            Else
                found = Int(start) = Int(onDay)
            End If
            If found And (LatestRow = 0 Or start > best) Then
                LatestRow = r
                best = start
            End If
        End If
    Next r
End Function

' The newest row whose Discipline reads `kind` (a NameKey).
Private Function LatestOfKind(ByVal starts As Variant, ByVal kinds As Variant, ByVal kind As String) As Long
    Dim r As Long, best As Double
    For r = 1 To UBound(starts, 1)
        If VarType(starts(r, 1)) = vbDouble Or VarType(starts(r, 1)) = vbDate Then
            If NameKey(CStr(kinds(r, 1))) = kind Then
                If LatestOfKind = 0 Or CDbl(starts(r, 1)) > best Then
                    LatestOfKind = r
                    best = CDbl(starts(r, 1))
                End If
            End If
        End If
    Next r
End Function

' "ride", "run", "row", "walk" as the Discipline column names them (pelotonxl/excel/functions.py:
' LATEST_KINDS); any other word is a discipline's own name ("yoga"). "" for no word at all.
Private Function DisciplineKey(ByVal word As String) As String
    Select Case NameKey(word)
        Case "ride": DisciplineKey = "cycling"
        Case "run": DisciplineKey = "running"
        Case "row": DisciplineKey = "rowing"
        Case "walk": DisciplineKey = "walking"
        Case Else: DisciplineKey = NameKey(word)
    End Select
End Function

Private Function HeaderColumn(ByVal headers As Variant, ByVal label As String) As Long
    Dim c As Long
    For c = 1 To UBound(headers, 2)
        If StrComp(Trim$(CStr(headers(1, c))), label, vbTextCompare) = 0 Then
            HeaderColumn = c
            Exit Function
        End If
    Next c
End Function

' One column's data cells as a 1-based 2-D array, even for a table of one row.
Private Function ColumnValues(ByVal table As ListObject, ByVal col As Long) As Variant
    ColumnValues = RowValues(table.ListColumns(col).DataBodyRange)
End Function

' A range's values as a 1-based 2-D array, even for a single cell (whose Value2 is no array).
Private Function RowValues(ByVal area As Range) As Variant
    Dim one(1 To 1, 1 To 1) As Variant
    If area.Cells.Count = 1 Then
        one(1, 1) = area.Value2
        RowValues = one
    Else
        RowValues = area.Value2
    End If
End Function

Private Function IsWorkoutId(ByVal text As String) As Boolean
    Dim i As Long
    If Len(text) <> 32 Then Exit Function
    For i = 1 To 32
        If InStr(1, "0123456789abcdef", Mid$(text, i, 1), vbBinaryCompare) = 0 Then Exit Function
    Next i
    IsWorkoutId = True
End Function

' "Avg Output", "avg_output" and "AVG-OUTPUT" all become "avgoutput" (functions.py's _key).
Private Function NameKey(ByVal text As String) As String
    Dim i As Long, ch As String
    text = LCase$(text)
    For i = 1 To Len(text)
        ch = Mid$(text, i, 1)
        If (ch >= "a" And ch <= "z") Or (ch >= "0" And ch <= "9") Then NameKey = NameKey & ch
    Next i
End Function

' "Avg Output (watts)" -> "Avg Output".
Private Function WithoutUnit(ByVal header As String) As String
    Dim paren As Long
    header = Trim$(header)
    paren = InStrRev(header, " (")
    If paren > 0 And Right$(header, 1) = ")" Then WithoutUnit = Left$(header, paren - 1) Else WithoutUnit = header
End Function

' The slugs whose header name differs from the slug (pelotonxl/model/catalog.py: METRIC_NAMES,
' SLUG_ALIASES); every other slug reads as its name once both are keys.
Private Function SlugAsName(ByVal key As String) As String
    Select Case key
        Case "strokecount": SlugAsName = "strokes"
        Case "totalcalories": SlugAsName = "calories"
        Case Else: SlugAsName = key
    End Select
End Function
